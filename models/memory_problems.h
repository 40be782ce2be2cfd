#pragma once
/// \file
/// SequenceClassifier and SequenceTagger losses as SequenceProblems (packed layout, dense
/// features or token ids through the model's embedding), so full, checkpointed and truncated BPTT
/// can train the models of models/sequence_models.h — any cell, any number of layers (the
/// runner's stepwise form, models/runner_steps.h; bidirectional models are refused).
///
///  * classifier: final_loss = cross_entropy(head(gather_rows(finals, unsorted)), labels), the
///    same ops SequenceClassifier::logits/loss record after the RNN.
///  * tagger: a per-step head, ℓ_t = mean cross-entropy over step t's rows, weighted rows_t/N: the
///    mean over real tokens, like SequenceTagger::loss, whose single head GEMM over all steps
///    (concat_rows + Linear) sums in a different order. Full BPTT and checkpointing of this
///    problem are bitwise equal; against SequenceTagger::forward/loss they agree to rounding.
///
/// The returned problem keeps references to the model's parameters and runner: the model must
/// outlive it. The batch's data is copied (packed) into the problem.
#include <vector>

#include "framework/memory/sequence_problem.h"
#include "models/sequence_models.h"

namespace reel::memory {

/// labels: one per sequence, in the batch's order.
template <class T>
SequenceProblem<T> classifier_problem(SequenceClassifier<T>& model, const SequenceBatch<T>& batch,
                                      const std::vector<int64_t>& labels);

/// tags: (batch, max_len), padded like the batch.
template <class T>
SequenceProblem<T> tagger_problem(SequenceTagger<T>& model, const SequenceBatch<T>& batch,
                                  const std::vector<int64_t>& tags);

}  // namespace reel::memory
