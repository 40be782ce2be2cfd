#pragma once
/// \file
/// Checkpointed BPTT on reel's tape: the forward keeps only the states a Plan stores; the backward
/// re-records each chunk from its stored state and reverses it, last chunk first.
///
/// \code
///   memory::CheckpointedBPTT<float> ckpt;
///   auto plan = memory::plan_uniform(memory::memory_model(problem));       // k = ⌈√T⌉
///   auto stats = ckpt.run(tape, problem, plan);   // loss in stats.loss, gradients in the store
/// \endcode
///
/// Parameter gradients are bitwise equal to record_full's (full BPTT of the same problem): a chunk
/// records the same ops as full BPTT does for those steps, and its backward is seeded through
/// seeded_sum with dL/dh from the chunk after it, so every parameter accumulation happens with the
/// same operands in the same order (head, step T-1, ..., step 0).
///
/// Memory: one chunk on `tape` at a time (clear() keeps the arena at the largest chunk's size), the
/// stored states in one host buffer, a small second tape for the final loss. RunStats reports the
/// measured peak, which equals simulate()'s estimate for the built-in losses.
#include <cstdint>
#include <vector>

#include "framework/memory/schedule.h"
#include "framework/memory/sequence_problem.h"

namespace reel::memory {

/// What one CheckpointedBPTT::run did and used.
struct RunStats {
  double loss = 0;  ///< the problem's loss
  size_t peak_bytes = 0;           ///< tape values + gradients + stored states + host buffers, high-water mark
  size_t tape_peak_bytes = 0;      ///< the largest tape alone
  size_t snapshot_peak_bytes = 0;  ///< stored states (h0 included)
  int64_t recorded_steps = 0;  ///< steps recorded on a tape (each exactly once)
  int64_t recomputed_steps = 0;    ///< steps advanced without recording
  /// Tape::backward calls: one per reversed chunk with a gradient to pass, one for a final loss
  int64_t backward_calls = 0;
};

/// Runs a SequenceProblem's forward and backward under a Plan (see the file description).
template <class T>
class CheckpointedBPTT {
 public:
  CheckpointedBPTT() = default;
  /// keep_gradients: every chunk's tape keeps each node's gradient until it is cleared
  /// (Tape::set_retain_grads), which is what the plan's byte figures count exactly. Off (the
  /// default), the tapes recycle gradient buffers during backward like any default tape: the
  /// measured peak is lower than the plan's figure (an upper bound then) and the run faster
  /// (B=32, d=512, T=5000, k=71: 14.6 MB against 37.7 MB planned; 1.35x full BPTT's time
  /// against 1.51x). Gradients are bitwise the same either way.
  explicit CheckpointedBPTT(bool keep_gradients) : keep_gradients_(keep_gradients) {}
  CheckpointedBPTT(const CheckpointedBPTT&) = delete;
  CheckpointedBPTT& operator=(const CheckpointedBPTT&) = delete;

  /// Forward and backward of p under plan (made for p's steps). Parameter gradients accumulate (+=);
  /// zero them first as for any backward. `tape` is cleared and reused for every chunk.
  RunStats run(Tape<T>& tape, const SequenceProblem<T>& p, const Plan& plan);

  /// For Trainer::step: runs, clears `tape` and returns the loss as a leaf on it, so the
  /// trainer's backward(loss) has nothing left to do and its clip/step see the gradients.
  /// \code
  ///   trainer.step(tape, [&](Tape<float>& t) { return ckpt.run_as_loss(t, problem, plan); });
  /// \endcode
  Var<T> run_as_loss(Tape<T>& tape, const SequenceProblem<T>& p, const Plan& plan);

  const RunStats& last() const { return last_; }  ///< the statistics of the last run

 private:
  bool keep_gradients_ = false;
  Tape<T> head_;  ///< the final loss's tape
  std::vector<T> stack_, cur_, dh_, finals_, dfinals_, terms_;
  RunStats last_;
};

}  // namespace reel::memory
