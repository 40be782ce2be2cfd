#pragma once
/// \file
/// The adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015), a long-sequence
/// regression task: each step carries (value ~ U(0,1), marker in {0,1}); exactly two steps are
/// marked, one in each half; the target is the sum of the two marked values. Always answering 1
/// scores an MSE of about 1/6, so anything below that has carried information across the
/// sequence. Used by examples/long_sequences, examples/memory_report and bench_checkpointing.
#include <memory>
#include <string>
#include <vector>

#include "framework/memory/sequence_problem.h"
#include "framework/rng.h"
#include "models/linear.h"
#include "models/sequence_runner.h"

namespace reel::memory {

/// One batch of the adding problem: inputs and targets.
template <class T>
struct AddingBatch {
  /// Sequences in the batch, and steps of each.
  ///@{
  int64_t batch = 0, steps = 0;
  ///@}
  std::shared_ptr<std::vector<T>> x;  ///< (batch, steps, 2)
  std::vector<T> target;              ///< (batch, 1)
};

/// batch sequences of steps steps drawn from rng: a marked step in [0, steps/2) and one in
/// [steps/2, steps). Throws UsageError unless batch >= 1 and steps >= 2.
template <class T>
AddingBatch<T> make_adding_batch(int64_t batch, int64_t steps, Rng& rng);

/// A one-layer SequenceRunner (2 inputs; any cell) and a Linear(hidden, 1) head on the last h, MSE.
template <class T>
class AddingModel {
 public:
  /// identity_init (vanilla cell): W_hh = I (the IRNN recipe for relu), otherwise the cell's initialisation.
  AddingModel(ParameterStore<T>& store, int64_t hidden, const std::string& activation, Rng& rng,
              bool identity_init = false, const std::string& cell = "rnn");

  /// The loss as a SequenceProblem (for record_full, CheckpointedBPTT, TruncatedBPTT).
  SequenceProblem<T> problem(const AddingBatch<T>& batch) const;
  /// The same loss through SequenceRunner::forward (one input GEMM over all steps).
  Var<T> stock_loss(Tape<T>& tape, const AddingBatch<T>& batch) const;

  SequenceRunner<T> rnn;  ///< the recurrence, parameters under "rnn"
  Linear<T> head;  ///< Linear(hidden, 1) on the last h, parameters under "head"
};

}  // namespace reel::memory
