#pragma once
/// \file
/// The dry-run memory model: what a step of a stepwise model (framework/memory/sequence_problem.h)
/// puts on the tape, rounded as the arena rounds (64 bytes), and how record_scope, record_full and
/// the checkpointed executor assemble steps into tapes. Its figures equal the tape's measured values
/// + gradient bytes exactly (tested), for a tape with fusion on that keeps every gradient until
/// clear() (Tape::set_retain_grads(true), which CheckpointedBPTT(/*keep_gradients=*/true) sets). A
/// default tape recycles gradient buffers during backward and peaks lower (full BPTT at B=32,
/// d=512: 2 instead of 7 B·d blocks a step); for it these figures are upper bounds.
///
/// Where the step bytes come from:
///  * memory_model(problem) measures them: it records one step of each distinct row count on a
///    small probe tape (with its loss term, backward seeded the ways a real run seeds it) and counts
///    the values and gradient buffers that step made. Any cell, any layers, any loss is estimated
///    without a line written for it; the probes cost a few steps, never a sequence.
///  * MemoryModel::dense(...) (no problem at hand: planning a T=5000 run before building anything)
///    uses the vanilla RNN's allocations, written out below (vanilla_step).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace reel::memory {

/// One arena allocation of per_row·rows + fixed elements, and its gradient's if grad.
struct Alloc {
  int64_t per_row = 0;  ///< elements per row
  int64_t fixed = 0;  ///< elements besides the rows
  bool grad = false;  ///< whether a gradient buffer of the same size comes with it
};

/// What a loss records: `step` at a step of `rows` rows, `final` on the (batch, hidden) finals.
struct LossCost {
  std::vector<Alloc> step;  ///< at each step with a loss term
  std::vector<Alloc> final;  ///< on the finals, once
};
/// A Linear head and mean cross-entropy at every step (the stepwise tagger).
LossCost tagger_cost(int64_t classes);
/// gather_rows back to batch order, a Linear head and mean cross-entropy (the classifier).
LossCost classifier_cost(int64_t hidden, int64_t classes);
/// A Linear head and mse against a constant target on the finals (e.g. the adding problem).
LossCost regression_cost(int64_t outputs);

/// Value and gradient bytes of part of a tape.
struct Bytes {
  /// Bytes of values and of gradients.
  ///@{
  size_t values = 0, grads = 0;
  ///@}
  size_t total() const { return values + grads; }  ///< values + grads
  /// Adds o's values and gradients.
  Bytes& operator+=(const Bytes& o) {
    values += o.values;
    grads += o.grads;
    return *this;
  }
};

/// One step's measured bytes at one row count (memory_model(problem) fills them).
struct StepProbe {
  int64_t rows = 0;  ///< the row count probed
  /// [incoming state needs a gradient][the step's state gets one from later][its output gets one
  /// besides through the state (a loss term, a final piece)]
  Bytes recorded[2][2][2];
  size_t advance = 0;        ///< values of the step run without recording
  size_t scope_scratch = 0;  ///< values of Recurrence::begin_scope for this many rows
};

/// The dry-run model of a problem: its sizes and what each step and loss put on a tape (see the
/// file description). plan_* and simulate() read it.
struct MemoryModel {
  std::vector<int64_t> batch_sizes;  ///< rows at each step
  int64_t input_dim = 0;  ///< features of x_t
  bool input_grad = false;  ///< x_t is an embedding lookup (its rows get a gradient)
  int64_t hidden = 0;       ///< the carried state's width (Recurrence::state_dim)
  int64_t output = 0;       ///< the output's width, which the final loss reads (0: hidden)
  size_t elem = sizeof(float);  ///< bytes per element (4: float, 8: double)
  /// Whether the problem has a loss term at each step, and a loss on the finals.
  ///@{
  bool step_loss = false, final_loss = false;
  ///@}
  LossCost loss;  ///< what the losses record (the vanilla formulas; probes replace them)
  std::vector<StepProbe> probes;  ///< measured steps by row count; empty: the vanilla formulas
  bool final_measured = false;  ///< whether final_bytes was measured
  Bytes final_bytes;              ///< measured final loss on a (batch, output) leaf, leaf excluded

  /// A full-length batch: `steps` steps of `batch` rows.
  static MemoryModel dense(int64_t batch, int64_t steps, int64_t input_dim, int64_t hidden, const LossCost& loss,
                           bool step_loss, bool final_loss, size_t elem = sizeof(float));

  /// T, the steps of the sequence
  int64_t steps() const { return static_cast<int64_t>(batch_sizes.size()); }
  int64_t batch() const { return batch_sizes.empty() ? 0 : batch_sizes[0]; }  ///< rows at step 0
  int64_t rows(int64_t t) const { return batch_sizes[static_cast<size_t>(t)]; }  ///< rows at step t
  /// Rows of the state entering step t
  int64_t rows_into(int64_t t) const { return rows(t > 0 ? t - 1 : 0); }
  /// Rows at step t+1 (0 after the last)
  int64_t next_rows(int64_t t) const { return t + 1 < steps() ? rows(t + 1) : 0; }

  /// Output, or hidden when output is 0
  int64_t output_width() const { return output > 0 ? output : hidden; }
  size_t alloc(int64_t elems) const;  ///< one arena allocation, rounded to 64 bytes
  /// A recorded step t (record_step) inside a scope: every gradient reaches it (its state is read
  /// by the next step). The planner's per-step figure.
  Bytes recorded_step(int64_t t, bool prev_grad) const { return recorded_step(t, prev_grad, true, true); }
  /// ... with its state and its output each reached by a gradient or not.
  Bytes recorded_step(int64_t t, bool prev_grad, bool state_grad, bool output_grad) const;
  /// The values a scope or an advanced chunk starting at step t adds before its steps: the
  /// incoming state and the model's scratch.
  size_t scope_overhead(int64_t t) const;
  /// The values one step adds when run without recording (advance; the state copied in is extra).
  size_t advance_step(int64_t t) const;
  /// record_scope over [begin, end), plus its root (seeded_sum) with `root_terms` weighted terms.
  /// with_final: the finals and the final loss are on this tape too (full BPTT, TBPTT's last window).
  /// end_seeded: the state after end-1 gets a gradient from later (a checkpointed chunk before the
  /// last); final pieces get theirs when the problem has a final loss.
  Bytes scope(int64_t begin, int64_t end, bool start_grad, bool with_final, bool root, int64_t root_terms,
              bool end_seeded = false) const;
  int64_t loss_terms(int64_t begin, int64_t end) const;  ///< steps with a loss term in [begin, end)
  size_t full_bptt() const;   ///< record_full + backward: the tape's peak values + gradients
  size_t head_tape() const;   ///< the checkpointed run's separate loss-head tape (finals leaf + final loss)
  size_t snapshot(int64_t t) const;  ///< one stored state entering step t (not rounded: host memory)
  size_t host_buffers() const;       ///< the checkpointed run's fixed host buffers
};

/// The textbook figures: B·T·d·elem for the hidden states alone, twice that with pre-activations.
///@{
size_t hidden_state_bytes(int64_t batch, int64_t steps, int64_t hidden, size_t elem = sizeof(float));
size_t with_preactivation_bytes(int64_t batch, int64_t steps, int64_t hidden, size_t elem = sizeof(float));
///@}

}  // namespace reel::memory
