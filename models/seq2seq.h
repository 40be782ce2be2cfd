#pragma once
/// \file
/// Many-to-many unaligned: an encoder-decoder (the reference's EncoderDecoderRNN) on the runner seam.
///
/// \code{.unparsed}
///   source ids -> src_embed -> encoder (SequenceRunner: any cell, layers, bidirectional)
///        encoder final states --bridge: tanh(Linear) per decoder layer and state part--> decoder h0 (c0)
///   [<s>, y1 .. yn] -> tgt_embed -> decoder (SequenceRunner, unidirectional, same cell and layers) -> q_t
///   attention (optional, Luong "general"):  scores_ts = q_t · (W_a m_s), padding masked,
///        a_t = softmax(scores_t), c_t = Σ_s a_ts m_s,  o_t = tanh(W_c [c_t; q_t] + b_c)
///   logits_t = head(o_t) (or head(q_t) without attention) -> [y1 .. yn, </s>]
/// \endcode
///
/// Parameters: "src_embed.weight", the encoder's runner names under "encoder" ("encoder.W_xh" ...),
/// "bridge.l<k>.h.W"/".b" (and ".c." for an LSTM's cell state), "tgt_embed.weight", the decoder's under
/// "decoder", with attention "attn.W" (encoder output, decoder hidden) and "attn_out.W"/".b", then
/// "head.W"/".b" — created, and drawn from the Rng, in that order.
///
/// Training: loss() is the mean cross-entropy over every real target token and each sequence's
/// `</s>`. With teacher_forcing = 1 the decoder reads the gold previous token and runs as one
/// unroll; below 1, step by step, and before each step t > 0 one coin rng.uniform() < ratio (one per
/// step for the whole batch, as the reference draws it) picks the gold token or the model's own
/// argmax. Decoding (models/decoding.h) never records gradients.
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/sequence_batch.h"
#include "models/embedding.h"
#include "models/shifted_targets.h"
#include "models/linear.h"
#include "models/sequence_batch.h"
#include "models/sequence_runner.h"

namespace reel {

/// Everything that defines an EncoderDecoder; saved as a checkpoint's "config" group (kind "seq2seq").
struct Seq2SeqConfig {
  int64_t src_vocab = 0;  ///< source symbols, the Vocab's `<pad>` and `<unk>` included
  int64_t tgt_vocab = 0;  ///< target symbols, with `<pad>`, `<unk>`, bos and eos
  int64_t bos = 2;  ///< the target id the decoder reads first
  int64_t eos = 3;  ///< the target id that ends a sequence
  int64_t embed_dim = 64;  ///< both embeddings' width
  int64_t hidden_dim = 128;  ///< the encoder's hidden size per direction
  int64_t decoder_hidden = 0;  ///< the decoder's hidden size; 0: directions · hidden_dim
  std::string cell = "lstm";  ///< encoder's and decoder's cell: rnn | lstm | gru | a user's
  std::string activation = "tanh";  ///< the vanilla cell's
  int64_t num_layers = 1;  ///< encoder and decoder layers
  bool bidirectional = false;  ///< a reverse direction in every encoder layer
  bool attention = false;  ///< Luong attention over the encoder's outputs

  int64_t decoder_dim() const { return decoder_hidden > 0 ? decoder_hidden : (bidirectional ? 2 : 1) * hidden_dim; }  ///< the decoder's hidden size
  RunnerConfig encoder() const;  ///< the encoder's runner
  RunnerConfig decoder() const;  ///< the decoder's runner
  void validate() const;  ///< throws UsageError naming the bad field
};

/// What encode() computes once per source batch and every decoder step reads.
template <class T>
struct EncodedSource {
  /// Sources, and the longest one's length.
  ///@{
  int64_t batch = 0, max_len = 0;
  ///@}
  std::vector<int64_t> lengths;  ///< each source's length
  Var<T> memory;  ///< (batch, max_len, D·hidden): the encoder's outputs, 0 at padding (attention only)
  Var<T> keys;  ///< (batch, max_len, decoder hidden): memory · attn.W (attention only)
  std::vector<T> mask;  ///< (batch, max_len): 1 at real source positions
  std::vector<CellState<T>> init;  ///< the decoder's initial state, one per layer

  /// The same sources with rows picked (a row may repeat): beam search's expansion.
  EncodedSource select(const std::vector<int64_t>& rows) const;
};

/// One decoder step's result.
template <class T>
struct DecoderStep {
  Var<T> logits;  ///< (batch, tgt_vocab)
  std::vector<CellState<T>> state;  ///< the decoder's state after the step, one per layer
};

/// A source and its target for an encoder-decoder: both token ids, padded (SequenceBatch.ids),
/// the target without bos and eos (the model adds them).
template <class T>
struct PairBatch {
  SequenceBatch<T> source;  ///< ids (batch, max_len), lengths
  SequenceBatch<T> target;  ///< ids (batch, max_len), lengths; the same batch size
};

/// sources (a DataLoader's batch, its index set) with their targets: targets.ids(sources.index[i])
/// padded. UsageError if the batch has no index or an index is outside targets.
template <class T>
PairBatch<T> with_targets(SequenceBatch<T> sources, const SequenceDataset<T>& targets);

/// The encoder-decoder (see the file description).
template <class T>
class EncoderDecoder {
 public:
  /// Builds the parts config describes (validated), parameters in store, drawn from rng.
  EncoderDecoder(ParameterStore<T>& store, const Seq2SeqConfig& config, Rng& rng);
  ~EncoderDecoder();
  const Seq2SeqConfig& config() const { return config_; }  ///< the configuration
  ParameterStore<T>& parameters() { return store_; }  ///< the store holding the parameters

  /// Runs the encoder over the sources (token ids, lengths >= 1; ids checked against src_vocab).
  /// Packed (PyTorch's pack_padded_sequence: each step computes only the sources still running)
  /// or padded (every row every step, each final state taken at its own length): the same values.
  EncodedSource<T> encode(Tape<T>& tape, const SequenceBatch<T>& source, BatchMode mode = BatchMode::Padded) const;
  /// One decoder step from the previous tokens (batch ids) and state (empty: enc.init).
  DecoderStep<T> decode_step(Tape<T>& tape, const EncodedSource<T>& enc, const std::vector<int64_t>& prev,
                             const std::vector<CellState<T>>& state) const;
  /// Mean cross-entropy over real target tokens and each `</s>` (see the file description); rng is
  /// read only when teacher_forcing < 1. mode: the encoder's layout (encode()).
  Var<T> loss(Tape<T>& tape, const PairBatch<T>& batch, double teacher_forcing = 1.0, Rng* rng = nullptr,
              BatchMode mode = BatchMode::Padded) const;
  /// Logits (batch, target max_len + 1, tgt_vocab) with gold previous tokens, one unroll.
  Var<T> teacher_forced_logits(Tape<T>& tape, const EncodedSource<T>& enc, const SequenceBatch<T>& target) const;
  /// The same logits step by step, the previous token gold with probability ratio (one coin
  /// rng.uniform() < ratio before each step t > 0), else the argmax of the step before.
  Var<T> stepwise_logits(Tape<T>& tape, const EncodedSource<T>& enc, const SequenceBatch<T>& target, double ratio,
                         Rng& rng) const;

 private:
  Var<T> attend(Tape<T>& tape, const EncodedSource<T>& enc, const Var<T>& q, int64_t steps) const;
  ShiftedTargets shifted(const EncodedSource<T>& enc, const SequenceBatch<T>& target) const;  // checked
  Var<T> teacher_forced_logits(Tape<T>& tape, const EncodedSource<T>& enc, const ShiftedTargets& s) const;
  Var<T> stepwise_logits(Tape<T>& tape, const EncodedSource<T>& enc, const ShiftedTargets& s, double ratio, Rng& rng) const;
  std::vector<CellState<T>> bridge(Tape<T>& tape, const RunnerOutput<T>& out) const;
  Var<T> padded_memory(Tape<T>& tape, const Var<T>& packed, const std::vector<int64_t>& rows, int64_t positions) const;

  ParameterStore<T>& store_;
  Seq2SeqConfig config_;
  std::unique_ptr<Embedding<T>> src_embed_, tgt_embed_;
  std::unique_ptr<SequenceRunner<T>> encoder_, decoder_;
  std::vector<std::unique_ptr<Linear<T>>> bridge_;  ///< [layer · parts + part]
  Parameter<T>* attn_W_ = nullptr;
  std::unique_ptr<Linear<T>> attn_out_, head_;
};

}  // namespace reel
