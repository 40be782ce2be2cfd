#include "models/sequence_models.h"

#include "framework/ops.h"
#include "models/cell_registry.h"
#include "models/vanilla_cell.h"

namespace reel {

void SequenceModelConfig::validate() const {
  if (kind != "classifier" && kind != "tagger")
    throw UsageError("SequenceModelConfig: unknown kind '" + kind + "' (expected 'classifier' or 'tagger')");
  if ((input_dim > 0) == (vocab_size > 0))
    throw UsageError("SequenceModelConfig: set exactly one of input_dim (dense features, now " + std::to_string(input_dim) +
                     ") and vocab_size (token ids, now " + std::to_string(vocab_size) + ")");
  if (vocab_size > 0 && embed_dim <= 0)
    throw UsageError("SequenceModelConfig: embed_dim must be > 0 with token ids, got " + std::to_string(embed_dim));
  if (hidden_dim <= 0 || num_classes <= 0)
    throw UsageError("SequenceModelConfig: hidden_dim and num_classes must be > 0 (got " + std::to_string(hidden_dim) +
                     ", " + std::to_string(num_classes) + ")");
  // Bounds before anything is allocated (a damaged /config must not ask for terabytes).
  const std::pair<const char*, int64_t> sizes[] = {{"input_dim", input_dim}, {"vocab_size", vocab_size}, {"embed_dim", embed_dim},
                                                   {"hidden_dim", hidden_dim}, {"num_classes", num_classes}};
  for (const auto& [name, v] : sizes)
    if (v > kMaxModelDim)
      throw UsageError(std::string("SequenceModelConfig: ") + name + " = " + std::to_string(v) + " exceeds the limit of " +
                       std::to_string(kMaxModelDim));
  if (num_layers < 1 || num_layers > 64)
    throw UsageError("SequenceModelConfig: num_layers = " + std::to_string(num_layers) + " outside 1..64");
  parse_activation(activation);
  runner().validate();  // the cell, the layers
}

RunnerConfig SequenceModelConfig::runner() const {
  RunnerConfig rc;
  rc.cell = cell;
  rc.input_dim = vocab_size > 0 ? embed_dim : input_dim;
  rc.hidden_dim = hidden_dim;
  rc.num_layers = num_layers;
  rc.bidirectional = bidirectional;
  rc.activation = activation;
  return rc;
}

template <class T>
SequenceModel<T>::SequenceModel(ParameterStore<T>& store, const SequenceModelConfig& config, Rng& rng)
    : store_(store), config_(config) {
  config_.validate();
  if (config_.vocab_size > 0) embed_ = std::make_unique<Embedding<T>>(store, config_.vocab_size, config_.embed_dim, rng, "embed");
  runner_ = std::make_unique<SequenceRunner<T>>(store, config_.runner(), rng, "rnn");
  head_ = std::make_unique<Linear<T>>(store, runner_->config().output_dim(), config_.num_classes, rng, "head");
}

template <class T>
static SequenceModelConfig with_kind(SequenceModelConfig c, const char* kind) {
  c.kind = kind;
  return c;
}

template <class T>
SequenceClassifier<T>::SequenceClassifier(ParameterStore<T>& store, SequenceModelConfig config, Rng& rng)
    : SequenceModel<T>(store, with_kind<T>(config, "classifier"), rng) {}

template <class T>
Var<T> SequenceClassifier<T>::logits(Tape<T>& tape, const SequenceBatch<T>& batch, BatchMode mode) const {
  LaidOutInput<T> in = lay_out(tape, batch, mode, this->embed_.get());
  // Final states come back in the batch's order; each sequence's at its own last step.
  const RunnerInput<T> rin = mode == BatchMode::Packed
                                 ? RunnerInput<T>::packed_rows(in.x, in.pack.batch_sizes, in.pack.sorted_indices)
                                 : RunnerInput<T>::padded(in.x, batch.lengths);
  return this->head_->forward(tape, this->runner_->forward(tape, rin, {}, /*outputs=*/false).final_hidden());
}

template <class T>
Var<T> SequenceClassifier<T>::loss(Tape<T>&, const Var<T>& logits, const std::vector<int64_t>& labels) const {
  return cross_entropy(logits, labels);
}

template <class T>
SequenceTagger<T>::SequenceTagger(ParameterStore<T>& store, SequenceModelConfig config, Rng& rng)
    : SequenceModel<T>(store, with_kind<T>(config, "tagger"), rng) {}

template <class T>
TaggerOutput<T> SequenceTagger<T>::forward(Tape<T>& tape, const SequenceBatch<T>& batch, BatchMode mode) const {
  LaidOutInput<T> in = lay_out(tape, batch, mode, this->embed_.get());
  TaggerOutput<T> out;
  Var<T> hidden;
  if (mode == BatchMode::Packed) {
    hidden = this->runner_->forward(tape, RunnerInput<T>::packed_rows(in.x, in.pack.batch_sizes)).output;  // (N, D·hidden): real tokens only
    out.mask.assign(in.rows.size(), T(1));
  } else {
    hidden = this->runner_->forward(tape, RunnerInput<T>::padded(in.x, batch.lengths)).output;  // (B, T, D·hidden)
    out.mask.assign(in.rows.size(), T(0));
    for (int64_t b = 0; b < batch.batch; ++b)
      for (int64_t t = 0; t < batch.lengths[static_cast<size_t>(b)]; ++t) out.mask[static_cast<size_t>(b * batch.max_len + t)] = T(1);
  }
  out.logits = this->head_->forward(tape, hidden);
  if (mode == BatchMode::Padded)
    out.logits = reshape(out.logits, Shape{batch.batch * batch.max_len, this->config_.num_classes});
  out.rows = std::move(in.rows);
  return out;
}

template <class T>
Var<T> SequenceTagger<T>::loss(Tape<T>&, const TaggerOutput<T>& out, const std::vector<int64_t>& tags) const {
  std::vector<int64_t> targets(out.rows.size());
  for (size_t k = 0; k < out.rows.size(); ++k) {
    if (out.rows[k] >= static_cast<int64_t>(tags.size()))
      throw ShapeError("SequenceTagger::loss: tags hold " + std::to_string(tags.size()) + " entries, the batch needs " +
                       std::to_string(out.rows[k] + 1) + " or more (batch x max_len)");
    targets[k] = out.mask[k] != T(0) ? tags[static_cast<size_t>(out.rows[k])] : 0;
  }
  return cross_entropy(out.logits, targets, out.mask);
}

template class SequenceModel<float>;
template class SequenceModel<double>;
template class SequenceClassifier<float>;
template class SequenceClassifier<double>;
template class SequenceTagger<float>;
template <class T>
std::vector<T> TaggerOutput<T>::by_position(const SequenceBatch<T>& batch) const {
  const int64_t C = logits.shape().last();
  std::vector<T> out(static_cast<size_t>(batch.batch * batch.max_len * C), T(0));
  const T* v = logits.data();
  for (size_t k = 0; k < rows.size(); ++k)
    if (mask[k] != T(0)) std::copy_n(v + static_cast<int64_t>(k) * C, C, out.begin() + rows[k] * C);
  return out;
}

template <class T>
int64_t TaggerOutput<T>::correct(const std::vector<int64_t>& tags) const {
  const auto pred = argmax_rows(logits);
  int64_t n = 0;
  for (size_t k = 0; k < pred.size(); ++k) n += mask[k] != T(0) && pred[k] == tags[static_cast<size_t>(rows[k])];
  return n;
}

template <class T>
int64_t correct_labels(const Var<T>& logits, const std::vector<int64_t>& labels) {
  const auto pred = argmax_rows(logits);
  int64_t n = 0;
  for (size_t k = 0; k < pred.size() && k < labels.size(); ++k) n += pred[k] == labels[k];
  return n;
}

template struct TaggerOutput<float>;
template struct TaggerOutput<double>;
template int64_t correct_labels(const Var<float>&, const std::vector<int64_t>&);
template int64_t correct_labels(const Var<double>&, const std::vector<int64_t>&);
template class SequenceTagger<double>;

}  // namespace reel
