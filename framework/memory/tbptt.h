#pragma once
/// \file
/// Truncated BPTT over a SequenceProblem: windows of k1 steps; in each, the first k1-k2 steps only
/// advance the state (no recording), the last k2 are recorded with their loss terms, and the
/// backward stops at the window's start: the state carried in from the previous window is a
/// constant (detached), so no gradient crosses a window boundary. One optimizer step per window.
///
/// The window's loss is Σ (c_t/N_w)·ℓ_t over its recorded steps (N_w = Σ c_t there), plus the final
/// loss in the last window (on every sequence's last state; states of sequences that ended in an
/// earlier window enter as constants). Loss terms of the k1-k2 advanced steps are not trained.
/// A single window covering the sequence (k1 = k2 >= T) records exactly what record_full records,
/// so its gradients are bitwise those of full BPTT.
///
/// With the training helper (one Trainer::step per window):
/// \code
///   memory::TruncatedBPTT<float> tb(problem, {/*k1=*/100});   // memory::TbpttOptions
///   auto results = tb.train(trainer, tape);
/// \endcode
/// By hand:
/// \code
///   while (!tb.done()) {
///     if (!tb.has_loss(tb.next_window())) { tb.skip_window(tape); continue; }
///     store.zero_grad();
///     Var<float> loss = tb.record_window(tape);
///     tape.backward(loss);
///     opt.step();
///   }
/// \endcode
#include <cstdint>
#include <vector>

#include "framework/memory/sequence_problem.h"
#include "framework/trainer.h"

namespace reel::memory {

/// The window sizes of TruncatedBPTT.
struct TbpttOptions {
  int64_t k1 = 0;  ///< steps per window (forward)
  int64_t k2 = 0;  ///< steps recorded for backward at the end of each window; <= 0: k1
};

/// Truncated BPTT over one batch, window by window (see the file description).
template <class T>
class TruncatedBPTT {
 public:
  /// Windows over problem (validated); throws UsageError unless 1 <= k2 <= k1.
  TruncatedBPTT(SequenceProblem<T> problem, TbpttOptions options);

  int64_t windows() const;  ///< ceil(T / k1)
  int64_t next_window() const { return next_; }  ///< the window record_window or skip_window runs next
  bool done() const { return next_ >= windows(); }  ///< whether every window has run
  int64_t window_begin(int64_t w) const;  ///< first step of window w
  int64_t window_end(int64_t w) const;  ///< one past window w's last step
  int64_t recorded_begin(int64_t w) const;  ///< max(begin, end - k2)
  /// Whether window w's recorded steps carry a loss term (or it ends the sequence and there is a
  /// final loss)
  bool has_loss(int64_t w) const;

  /// Records the next window on the tape (cleared first) from the carried state and returns its
  /// loss; the carried state moves to the window's end. Throws UsageError if the window has no
  /// loss (skip it with skip_window).
  Var<T> record_window(Tape<T>& tape);
  /// Runs the next window without recording (windows with no loss, or inference).
  void skip_window(Tape<T>& tape);
  /// Every remaining window: Trainer::step for each one with a loss, skip_window for the others.
  std::vector<StepResult> train(Trainer<T>& trainer, Tape<T>& tape);

  /// The state entering the next window: rows_into(window_begin(next_window())) x state_dim values,
  /// the rows of the sequences still running (a packed batch loses rows as sequences end; those
  /// sequences' last outputs are in finals()). What restore() takes back.
  const std::vector<T>& state() const { return h_; }
  /// What the last record_window recorded; its Vars are valid until the tape is cleared.
  const Scope<T>& scope() const { return scope_; }
  const SequenceProblem<T>& problem() const { return p_; }  ///< the problem it runs
  int64_t k1() const { return k1_; }  ///< steps per window
  int64_t k2() const { return k2_; }  ///< steps recorded per window
  /// Back to the first window and h0 (a new batch: construct a new TruncatedBPTT).
  void reset();
  /// Resuming mid-sequence (e.g. from a checkpoint's carried hidden state): the next window and
  /// the state entering it (as state() gives it; a batch x state_dim one is cut to its live rows);
  /// finals: last states of sequences that already ended (only a packed batch with a final loss
  /// needs them; empty: zeros).
  void restore(int64_t next_window, const std::vector<T>& state, const std::vector<T>& finals = {});
  /// Last outputs of the sequences that have ended, (batch, output_dim) in sorted order
  const std::vector<T>& finals() const { return finals_; }

 private:
  SequenceProblem<T> p_;
  int64_t k1_, k2_;
  int64_t next_ = 0;
  std::vector<T> h_, finals_;  ///< h_: state(), with capacity for the whole batch
  Scope<T> scope_;
};

}  // namespace reel::memory
