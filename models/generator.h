#pragma once
/// \file
/// One-to-many: a context vector -> a sequence (the reference's OneToManyRNN) on the runner seam.
///
/// \code{.unparsed}
///   context: a learned embedding of a category ("category.weight", num_categories > 0) or any
///            feature vector (batch, context_dim)
///   h0 of every layer = tanh(Linear(context))  ("init.l<k>"; an LSTM's c0 is 0), as the reference's
///   [<s>, y1 .. yn] -> embed -> SequenceRunner ("rnn": any cell, layers) -> head -> [y1 .. yn, </s>]
/// \endcode
///
/// Training is teacher-forced with the next-token loss (one unroll). generate() samples token by
/// token (temperature, top-k, from an explicit Rng) and stops each sequence at its own `</s>`: the
/// sequences still running are the only rows computed, and each one's length is reported.
/// Generation never records gradients.
///
/// Parameters are created, and drawn from the Rng, in the order "category.weight", "init.l<k>.W"/".b",
/// "embed.weight", the runner's "rnn.*", "head.W"/".b".
#include <memory>
#include <string>
#include <vector>

#include "data/sequence_batch.h"
#include "framework/sampling.h"
#include "models/embedding.h"
#include "models/linear.h"
#include "models/shifted_targets.h"
#include "models/sequence_runner.h"

namespace reel {

/// Everything that defines a Generator; saved as a checkpoint's "config" group (kind "generator").
struct GeneratorConfig {
  int64_t vocab = 0;  ///< symbols, with `<pad>`, `<unk>`, bos and eos
  int64_t bos = 2;  ///< the id read first
  int64_t eos = 3;  ///< the id that ends a sequence
  int64_t num_categories = 0;  ///< > 0: the context is a learned embedding of a category id; 0: features
  int64_t context_dim = 32;  ///< the context's width (the category embedding's, or the features')
  int64_t embed_dim = 32;  ///< the symbol embedding's width
  int64_t hidden_dim = 128;  ///< the runner's hidden size
  std::string cell = "gru";  ///< rnn | lstm | gru | a user's
  std::string activation = "tanh";  ///< the vanilla cell's
  int64_t num_layers = 1;  ///< stacked layers

  RunnerConfig runner() const;  ///< the runner this configuration builds
  void validate() const;  ///< throws UsageError naming the bad field
};

/// How Generator::generate samples.
struct GenerateOptions {
  int64_t max_len = 30;  ///< tokens at most per sequence (`</s>` excluded), >= 1
  SamplingOptions sampling;  ///< temperature, top-k (top_k 1: greedy)
};

/// What Generator::generate returns, one entry per context.
struct Generated {
  std::vector<std::vector<int64_t>> tokens;  ///< each sequence's ids, without bos and eos
  std::vector<int64_t> lengths;  ///< tokens[i].size()
  std::vector<bool> ended;  ///< it ended with `</s>` (false: cut at max_len)
};

/// The one-to-many generator (see the file description).
template <class T>
class Generator {
 public:
  /// Builds the parts config describes (validated), parameters in store, drawn from rng.
  Generator(ParameterStore<T>& store, const GeneratorConfig& config, Rng& rng);
  ~Generator();
  const GeneratorConfig& config() const { return config_; }  ///< the configuration
  ParameterStore<T>& parameters() { return store_; }  ///< the store holding the parameters

  /// The context of category ids (num_categories > 0): (batch, context_dim).
  Var<T> category_context(Tape<T>& tape, const std::vector<int64_t>& categories) const;
  /// Every layer's initial state from a context (batch, context_dim).
  std::vector<CellState<T>> initial_state(Tape<T>& tape, const Var<T>& context) const;
  /// Logits (batch, max_len + 1, vocab) of the teacher-forced sequences (ids without bos/eos).
  Var<T> logits(Tape<T>& tape, const Var<T>& context, const SequenceBatch<T>& sequences) const;
  /// Mean next-token cross-entropy over every real token and each `</s>`.
  Var<T> loss(Tape<T>& tape, const Var<T>& context, const SequenceBatch<T>& sequences) const;
  /// Samples one sequence per context row (see the file description); rng is drawn one uniform
  /// per running sequence per step, in row order.
  Generated generate(Tape<T>& tape, const Var<T>& context, const GenerateOptions& options, Rng& rng) const;

 private:
  ShiftedTargets shifted(const Var<T>& context, const SequenceBatch<T>& seqs) const;  // checked
  Var<T> logits(Tape<T>& tape, const Var<T>& context, const ShiftedTargets& s) const;

  ParameterStore<T>& store_;
  GeneratorConfig config_;
  std::unique_ptr<Embedding<T>> category_, embed_;
  std::vector<std::unique_ptr<Linear<T>>> init_;
  std::unique_ptr<SequenceRunner<T>> rnn_;
  std::unique_ptr<Linear<T>> head_;
};

}  // namespace reel
