#include "models/seq2seq.h"

#include <cmath>

#include "framework/ops.h"
#include "framework/sampling.h"
#include "models/sequence_models.h"
#include "models/vanilla_cell.h"

namespace reel {

RunnerConfig Seq2SeqConfig::encoder() const {
  RunnerConfig rc;
  rc.cell = cell;
  rc.input_dim = embed_dim;
  rc.hidden_dim = hidden_dim;
  rc.num_layers = num_layers;
  rc.bidirectional = bidirectional;
  rc.activation = activation;
  return rc;
}

RunnerConfig Seq2SeqConfig::decoder() const {
  RunnerConfig rc = encoder();
  rc.hidden_dim = decoder_dim();
  rc.bidirectional = false;
  return rc;
}

void Seq2SeqConfig::validate() const {
  const std::pair<const char*, int64_t> sizes[] = {{"src_vocab", src_vocab}, {"tgt_vocab", tgt_vocab},
                                                   {"embed_dim", embed_dim}, {"hidden_dim", hidden_dim}};
  for (const auto& [name, v] : sizes)
    if (v < 1 || v > kMaxModelDim)
      throw UsageError(std::string("Seq2SeqConfig: ") + name + " = " + std::to_string(v) + " outside 1.." +
                       std::to_string(kMaxModelDim));
  if (decoder_hidden < 0 || decoder_hidden > kMaxModelDim)
    throw UsageError("Seq2SeqConfig: decoder_hidden = " + std::to_string(decoder_hidden) + " outside 0.." +
                     std::to_string(kMaxModelDim) + " (0: directions x hidden_dim)");
  for (const auto& [name, v] : {std::pair<const char*, int64_t>{"bos", bos}, {"eos", eos}})
    if (v < 0 || v >= tgt_vocab)
      throw UsageError(std::string("Seq2SeqConfig: ") + name + " = " + std::to_string(v) + " is not a target id (tgt_vocab " +
                       std::to_string(tgt_vocab) + ")");
  if (bos == eos) throw UsageError("Seq2SeqConfig: bos and eos are both " + std::to_string(bos) + ", expected two ids");
  if (num_layers < 1 || num_layers > 64)
    throw UsageError("Seq2SeqConfig: num_layers = " + std::to_string(num_layers) + " outside 1..64");
  parse_activation(activation);
  encoder().validate();
  decoder().validate();
}

template <class T>
EncodedSource<T> EncodedSource<T>::select(const std::vector<int64_t>& rows) const {
  EncodedSource<T> e;
  e.batch = static_cast<int64_t>(rows.size());
  e.max_len = max_len;
  e.lengths.reserve(rows.size());
  for (int64_t r : rows) {
    if (r < 0 || r >= batch)
      throw UsageError("EncodedSource::select: row " + std::to_string(r) + " outside [0, " + std::to_string(batch) + ")");
    e.lengths.push_back(lengths[static_cast<size_t>(r)]);
    e.mask.insert(e.mask.end(), mask.begin() + r * max_len, mask.begin() + (r + 1) * max_len);
  }
  if (memory.valid()) e.memory = gather_rows(memory, rows);
  if (keys.valid()) e.keys = gather_rows(keys, rows);
  e.init = select_states(init, rows);
  return e;
}

template <class T>
EncoderDecoder<T>::EncoderDecoder(ParameterStore<T>& store, const Seq2SeqConfig& config, Rng& rng)
    : store_(store), config_(config) {
  config_.validate();
  const Seq2SeqConfig& c = config_;
  src_embed_ = std::make_unique<Embedding<T>>(store, c.src_vocab, c.embed_dim, rng, "src_embed");
  encoder_ = std::make_unique<SequenceRunner<T>>(store, c.encoder(), rng, "encoder");
  const int64_t enc_out = c.encoder().output_dim(), dec = c.decoder_dim();
  const int parts = encoder_->state_size();
  for (int64_t l = 0; l < c.num_layers; ++l)
    for (int p = 0; p < parts; ++p)
      bridge_.push_back(std::make_unique<Linear<T>>(store, enc_out, dec, rng,
                                                    "bridge.l" + std::to_string(l) + (p == 0 ? ".h" : ".c")));
  tgt_embed_ = std::make_unique<Embedding<T>>(store, c.tgt_vocab, c.embed_dim, rng, "tgt_embed");
  decoder_ = std::make_unique<SequenceRunner<T>>(store, c.decoder(), rng, "decoder");
  if (c.attention) {
    attn_W_ = &store.add("attn.W", Shape{enc_out, dec});
    const double bound = 1.0 / std::sqrt(static_cast<double>(enc_out));
    for (T& v : attn_W_->value) v = static_cast<T>((2 * rng.uniform() - 1) * bound);
    attn_out_ = std::make_unique<Linear<T>>(store, enc_out + dec, dec, rng, "attn_out");
  }
  head_ = std::make_unique<Linear<T>>(store, dec, c.tgt_vocab, rng, "head");
}

template <class T>
EncoderDecoder<T>::~EncoderDecoder() = default;

template <class T>
std::vector<CellState<T>> EncoderDecoder<T>::bridge(Tape<T>& tape, const RunnerOutput<T>& out) const {
  const int D = out.directions, parts = encoder_->state_size();
  std::vector<CellState<T>> init;
  for (int64_t l = 0; l < config_.num_layers; ++l) {
    CellState<T> s;
    for (int p = 0; p < parts; ++p) {
      std::vector<Var<T>> dirs;
      for (int d = 0; d < D; ++d) dirs.push_back(out.final_states[static_cast<size_t>(l * D + d)][static_cast<size_t>(p)]);
      const Var<T> x = D == 1 ? dirs[0] : concat(dirs);
      s.push_back(tanh(bridge_[static_cast<size_t>(l * parts + p)]->forward(tape, x)));
    }
    init.push_back(s);
  }
  return init;
}

template <class T>
EncodedSource<T> EncoderDecoder<T>::encode(Tape<T>& tape, const SequenceBatch<T>& source, BatchMode mode) const {
  check_token_batch("EncoderDecoder::encode", source, config_.src_vocab, "source");
  EncodedSource<T> e;
  e.batch = source.batch;
  e.max_len = source.max_len;
  e.lengths = source.lengths;
  e.mask.assign(static_cast<size_t>(e.batch * e.max_len), T(0));
  for (int64_t b = 0; b < e.batch; ++b)
    for (int64_t t = 0; t < e.lengths[static_cast<size_t>(b)]; ++t) e.mask[static_cast<size_t>(b * e.max_len + t)] = T(1);
  const LaidOutInput<T> in = lay_out(tape, source, mode, src_embed_.get());
  const bool packed = mode == BatchMode::Packed;
  const RunnerInput<T> rin = packed ? RunnerInput<T>::packed_rows(in.x, in.pack.batch_sizes, in.pack.sorted_indices)
                                    : RunnerInput<T>::padded(in.x, source.lengths);
  const RunnerOutput<T> out = encoder_->forward(tape, rin, {}, config_.attention);
  e.init = bridge(tape, out);  // final states in the batch's order either way
  if (config_.attention) {
    e.memory = packed ? padded_memory(tape, out.output, in.rows, e.batch * e.max_len) : out.output;
    if (packed) e.memory = reshape(e.memory, Shape{e.batch, e.max_len, encoder_->config().output_dim()});
    e.keys = matmul(e.memory, tape.param(*attn_W_));
  }
  return e;
}

// Packed rows (N, W) at their padded positions rows[k] of `positions` (B·S), zero elsewhere: one
// gather from [rows; a zero row].
template <class T>
Var<T> EncoderDecoder<T>::padded_memory(Tape<T>& tape, const Var<T>& packed, const std::vector<int64_t>& rows, int64_t positions) const {
  const int64_t n = packed.shape()[0], W = packed.shape()[1];
  std::vector<int64_t> from(static_cast<size_t>(positions), n);  // n: the zero row
  for (int64_t k = 0; k < n; ++k) from[static_cast<size_t>(rows[static_cast<size_t>(k)])] = k;
  return gather_rows(concat_rows(std::vector<Var<T>>{packed, tape.zeros(Shape{1, W})}), from);
}

// q (B, steps, H) -> o (B, steps, H) = tanh(W_c [c; q] + b_c), c the attention-weighted memory.
template <class T>
Var<T> EncoderDecoder<T>::attend(Tape<T>& tape, const EncodedSource<T>& enc, const Var<T>& q, int64_t steps) const {
  const int64_t B = enc.batch, S = enc.max_len;
  std::vector<T> mask(static_cast<size_t>(B * steps * S));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < steps; ++t)
      std::copy_n(enc.mask.begin() + b * S, S, mask.begin() + (b * steps + t) * S);
  const Var<T> a = softmax(bmm(q, enc.keys, false, true), mask);  // (B, steps, S)
  const Var<T> ctx = bmm(a, enc.memory);                          // (B, steps, D·H)
  return tanh(attn_out_->forward(tape, concat(std::vector<Var<T>>{ctx, q})));
}

template <class T>
DecoderStep<T> EncoderDecoder<T>::decode_step(Tape<T>& tape, const EncodedSource<T>& enc, const std::vector<int64_t>& prev,
                                              const std::vector<CellState<T>>& state) const {
  if (static_cast<int64_t>(prev.size()) != enc.batch)
    throw UsageError("EncoderDecoder::decode_step: " + std::to_string(prev.size()) + " previous tokens for " +
                     std::to_string(enc.batch) + " sources");
  check_token_ids("EncoderDecoder::decode_step", prev, config_.tgt_vocab, "target");
  const Var<T> x = tgt_embed_->forward(tape, prev, Shape{enc.batch, 1});
  RunnerOutput<T> out = decoder_->forward(tape, RunnerInput<T>::padded(x), state.empty() ? enc.init : state);
  Var<T> o = config_.attention ? attend(tape, enc, out.output, 1) : out.output;
  DecoderStep<T> step;
  step.logits = reshape(head_->forward(tape, o), Shape{enc.batch, config_.tgt_vocab});
  step.state = std::move(out.final_states);
  return step;
}

template <class T>
ShiftedTargets EncoderDecoder<T>::shifted(const EncodedSource<T>& enc, const SequenceBatch<T>& target) const {
  check_token_batch("EncoderDecoder", target, config_.tgt_vocab, "target");
  if (target.batch != enc.batch)
    throw UsageError("EncoderDecoder: " + std::to_string(target.batch) + " targets for " + std::to_string(enc.batch) + " sources");
  return shift_targets(target, config_.bos, config_.eos);
}

template <class T>
Var<T> EncoderDecoder<T>::teacher_forced_logits(Tape<T>& tape, const EncodedSource<T>& enc, const SequenceBatch<T>& target) const {
  return teacher_forced_logits(tape, enc, shifted(enc, target));
}

template <class T>
Var<T> EncoderDecoder<T>::teacher_forced_logits(Tape<T>& tape, const EncodedSource<T>& enc, const ShiftedTargets& s) const {
  const Var<T> x = tgt_embed_->forward(tape, s.input, Shape{enc.batch, s.steps});
  const Var<T> q = decoder_->forward(tape, RunnerInput<T>::padded(x, s.lengths), enc.init).output;
  return head_->forward(tape, config_.attention ? attend(tape, enc, q, s.steps) : q);
}

template <class T>
Var<T> EncoderDecoder<T>::stepwise_logits(Tape<T>& tape, const EncodedSource<T>& enc, const SequenceBatch<T>& target,
                                          double ratio, Rng& rng) const {
  return stepwise_logits(tape, enc, shifted(enc, target), ratio, rng);
}

template <class T>
Var<T> EncoderDecoder<T>::stepwise_logits(Tape<T>& tape, const EncodedSource<T>& enc, const ShiftedTargets& s, double ratio,
                                          Rng& rng) const {
  const int64_t B = enc.batch, V = config_.tgt_vocab;
  std::vector<int64_t> prev(static_cast<size_t>(B), config_.bos);
  std::vector<CellState<T>> state = enc.init;
  std::vector<Var<T>> steps;
  for (int64_t t = 0; t < s.steps; ++t) {
    if (t > 0) {
      const bool gold = rng.uniform() < ratio;
      if (gold)
        for (int64_t b = 0; b < B; ++b) prev[static_cast<size_t>(b)] = s.input[static_cast<size_t>(b * s.steps + t)];
      else
        prev = argmax_rows(steps.back().data(), B, V);
    }
    DecoderStep<T> d = decode_step(tape, enc, prev, state);
    steps.push_back(d.logits);
    state = std::move(d.state);
  }
  return stack_time(steps);
}

template <class T>
Var<T> EncoderDecoder<T>::loss(Tape<T>& tape, const PairBatch<T>& batch, double teacher_forcing, Rng* rng, BatchMode mode) const {
  if (!(teacher_forcing >= 0 && teacher_forcing <= 1))
    throw UsageError("EncoderDecoder::loss: teacher_forcing = " + std::to_string(teacher_forcing) + ", expected 0..1");
  if (teacher_forcing < 1 && !rng)
    throw UsageError("EncoderDecoder::loss: teacher_forcing < 1 draws a coin per step: pass the Rng");
  const EncodedSource<T> enc = encode(tape, batch.source, mode);
  const ShiftedTargets s = shifted(enc, batch.target);
  const Var<T> logits = teacher_forcing >= 1 ? teacher_forced_logits(tape, enc, s) : stepwise_logits(tape, enc, s, teacher_forcing, *rng);
  return cross_entropy(reshape(logits, Shape{enc.batch * s.steps, config_.tgt_vocab}), s.output, shifted_mask<T>(s));
}

template <class T>
PairBatch<T> with_targets(SequenceBatch<T> sources, const SequenceDataset<T>& targets) {
  if (sources.index.size() != static_cast<size_t>(sources.batch))
    throw UsageError("with_targets: the source batch has no dataset index (make it with collate or a DataLoader)");
  std::vector<std::vector<int64_t>> t;
  t.reserve(sources.index.size());
  for (int64_t i : sources.index) {
    if (i < 0 || i >= targets.size())
      throw UsageError("with_targets: index " + std::to_string(i) + " outside the " + std::to_string(targets.size()) + " targets of '" +
                       targets.name() + "'");
    t.push_back(targets.ids(i));
  }
  PairBatch<T> p;
  p.target = collate_ids<T>(t);
  p.source = std::move(sources);
  return p;
}

template PairBatch<float> with_targets(SequenceBatch<float>, const SequenceDataset<float>&);
template PairBatch<double> with_targets(SequenceBatch<double>, const SequenceDataset<double>&);
template struct EncodedSource<float>;
template struct EncodedSource<double>;
template class EncoderDecoder<float>;
template class EncoderDecoder<double>;

}  // namespace reel
