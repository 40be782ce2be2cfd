#pragma once
/// \file
/// Sequence models: an (optional) embedding, a SequenceRunner (any cell, layers, directions) and a
/// linear head.
///
/// \code{.unparsed}
///   SequenceClassifier (many-to-one):   the top layer's final h (both directions) -> Linear -> logits (batch, classes)
///   SequenceTagger     (many-to-many):  every step's top-layer output -> Linear -> logits per real token
/// \endcode
///
/// Parameters are registered in a ParameterStore under "embed.weight", the runner's names ("rnn.W_xh",
/// "rnn.W_hh", "rnn.b_h" for one layer and direction; "rnn.l1_reverse.W_hh" ...), "head.W", "head.b"
/// — the names checkpoints use.
#include <memory>
#include <string>
#include <vector>

#include "models/embedding.h"
#include "models/linear.h"
#include "models/sequence_batch.h"
#include "models/sequence_runner.h"

namespace reel {

/// The largest size any SequenceModelConfig field may hold (a vocabulary of 16M words, hidden 16M).
inline constexpr int64_t kMaxModelDim = int64_t{1} << 24;

/// Everything that defines a classifier or tagger; saved as a checkpoint's "config" group.
struct SequenceModelConfig {
  std::string kind = "classifier";  ///< "classifier" | "tagger"
  int64_t input_dim = 0;            ///< dense features per step (0 when the input is token ids)
  int64_t vocab_size = 0;           ///< > 0: token ids through an embedding of embed_dim
  int64_t embed_dim = 0;  ///< the embedding's width (with vocab_size > 0)
  int64_t hidden_dim = 128;  ///< each direction's hidden size
  int64_t num_classes = 2;  ///< classes (labels or tags) the head scores
  std::string activation = "tanh";  ///< the vanilla cell's
  std::string cell = "rnn";         ///< a registered cell: rnn | lstm | gru | a user's
  int64_t num_layers = 1;  ///< stacked layers
  bool bidirectional = false;  ///< a reverse direction in every layer

  RunnerConfig runner() const;  ///< the runner this configuration builds

  void validate() const;  ///< throws UsageError naming the bad field
};

/// What SequenceClassifier and SequenceTagger share: an optional embedding, a SequenceRunner and
/// a linear head, with their parameters in one store.
template <class T>
class SequenceModel {
 public:
  /// Builds the parts config describes (validated: UsageError names a bad field), their parameters
  /// in store, drawn from rng in the order embedding, runner, head.
  SequenceModel(ParameterStore<T>& store, const SequenceModelConfig& config, Rng& rng);
  const SequenceModelConfig& config() const { return config_; }  ///< the configuration
  ParameterStore<T>& parameters() { return store_; }  ///< the store holding the parameters
  const SequenceRunner<T>& runner() const { return *runner_; }  ///< the recurrent part

 protected:
  ParameterStore<T>& store_;  ///< the parameters' store
  SequenceModelConfig config_;  ///< the configuration
  std::unique_ptr<Embedding<T>> embed_;  ///< "embed": set when vocab_size > 0
  std::unique_ptr<SequenceRunner<T>> runner_;  ///< "rnn"
  std::unique_ptr<Linear<T>> head_;  ///< "head": (output_dim of the runner, num_classes)
};

/// Many-to-one: one label per sequence from the top layer's final state.
template <class T>
class SequenceClassifier : public SequenceModel<T> {
 public:
  /// A classifier (config.kind is set to "classifier"); see SequenceModel.
  SequenceClassifier(ParameterStore<T>& store, SequenceModelConfig config, Rng& rng);
  /// Logits (batch, classes), rows in the batch's original order.
  Var<T> logits(Tape<T>& tape, const SequenceBatch<T>& batch, BatchMode mode = BatchMode::Packed) const;
  /// Mean cross-entropy over the batch.
  Var<T> loss(Tape<T>& tape, const Var<T>& logits, const std::vector<int64_t>& labels) const;
};

/// A tagger's logits for one batch, with where each row sits in the padded batch.
template <class T>
struct TaggerOutput {
  Var<T> logits;               ///< (rows, classes)
  std::vector<int64_t> rows;   ///< for each logits row, its position b*max_len + t in the padded batch
  std::vector<T> mask;         ///< for each logits row: 1 for a real token, 0 for padding

  /// The logits as (batch, max_len, classes) in the batch's original order, 0 at padding: what
  /// PyTorch users read from pad_packed_sequence(batch_first=True) after their head.
  std::vector<T> by_position(const SequenceBatch<T>& batch) const;
  /// Real tokens whose argmax is the tag (tags: (batch, max_len), as SequenceBatch::tags).
  int64_t correct(const std::vector<int64_t>& tags) const;
};

/// Rows of (batch, classes) logits whose argmax is the label.
template <class T>
int64_t correct_labels(const Var<T>& logits, const std::vector<int64_t>& labels);

/// Many-to-many: one tag per real token from every step's top-layer output.
template <class T>
class SequenceTagger : public SequenceModel<T> {
 public:
  /// A tagger (config.kind is set to "tagger"); see SequenceModel.
  SequenceTagger(ParameterStore<T>& store, SequenceModelConfig config, Rng& rng);
  /// Logits for the batch's tokens: packed mode, one row per real token in packed order; padded
  /// mode, one row per (b, t) position with mask 0 at padding.
  TaggerOutput<T> forward(Tape<T>& tape, const SequenceBatch<T>& batch, BatchMode mode = BatchMode::Packed) const;
  /// Mean cross-entropy over real tokens; tags is (batch, max_len) padded like the batch.
  Var<T> loss(Tape<T>& tape, const TaggerOutput<T>& out, const std::vector<int64_t>& tags) const;
};

}  // namespace reel
