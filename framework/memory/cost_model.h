#pragma once
// The dry-run memory model: what a step of the stepwise RNN (framework/memory/sequence_problem.h)
// puts on the tape, allocation by allocation, rounded as the arena rounds (64 bytes). It mirrors
// the ops record_step, record_scope, record_full and the checkpointed executor issue, so for the
// built-in losses its figures equal the tape's measured values + gradient bytes exactly (tested),
// for a tape with fusion on (the default: a step keeps x·W_xh and h_t; m, s and z keep no value)
// that keeps every gradient until clear() (Tape::set_retain_grads(true), which
// CheckpointedBPTT(/*keep_gradients=*/true) sets). A default tape recycles gradient buffers during backward and peaks lower (full BPTT at
// B=32, d=512: 2 instead of 7 B·d blocks a step); for it these figures are upper bounds.
// Nothing here runs the model.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace reel::memory {

// One arena allocation of per_row·rows + fixed elements, and its gradient's if grad.
struct Alloc {
  int64_t per_row = 0;
  int64_t fixed = 0;
  bool grad = false;
};

// What a loss records: `step` at a step of `rows` rows, `final` on the (batch, hidden) finals.
struct LossCost {
  std::vector<Alloc> step;
  std::vector<Alloc> final;
  bool uses_y = false;  // the step loss reads the RNN's output layer y_t
};
// A Linear head and mean cross-entropy at every step (the stepwise tagger).
LossCost tagger_cost(int64_t classes);
// gather_rows back to batch order, a Linear head and mean cross-entropy (the classifier).
LossCost classifier_cost(int64_t hidden, int64_t classes);
// A Linear head and mse against a constant target on the finals (e.g. the adding problem).
LossCost regression_cost(int64_t outputs);

struct Bytes {
  size_t values = 0, grads = 0;
  size_t total() const { return values + grads; }
  Bytes& operator+=(const Bytes& o) {
    values += o.values;
    grads += o.grads;
    return *this;
  }
};

struct MemoryModel {
  std::vector<int64_t> batch_sizes;  // rows at each step
  int64_t input_dim = 0;
  bool input_grad = false;  // x_t is an embedding lookup (its rows get a gradient)
  int64_t hidden = 0;
  int64_t rnn_output = 0;   // width of the VanillaRNN's own output layer (0: none)
  size_t elem = sizeof(float);
  bool step_loss = false, final_loss = false;
  LossCost loss;

  // A full-length batch: `steps` steps of `batch` rows.
  static MemoryModel dense(int64_t batch, int64_t steps, int64_t input_dim, int64_t hidden, const LossCost& loss,
                           bool step_loss, bool final_loss, size_t elem = sizeof(float));

  int64_t steps() const { return static_cast<int64_t>(batch_sizes.size()); }
  int64_t batch() const { return batch_sizes.empty() ? 0 : batch_sizes[0]; }
  int64_t rows(int64_t t) const { return batch_sizes[static_cast<size_t>(t)]; }
  int64_t rows_into(int64_t t) const { return rows(t > 0 ? t - 1 : 0); }
  int64_t next_rows(int64_t t) const { return t + 1 < steps() ? rows(t + 1) : 0; }

  size_t alloc(int64_t elems) const;  // one arena allocation, rounded to 64 bytes
  // A recorded step t (record_step) whose incoming state needs a gradient or not.
  Bytes recorded_step(int64_t t, bool prev_grad) const;
  // The values one step adds when run without recording (advance; the state copied in is extra).
  size_t advance_step(int64_t t) const;
  // record_scope over [begin, end), plus its root (seeded_sum) with `root_terms` weighted terms.
  // with_final: the finals and the final loss are on this tape too (full BPTT, TBPTT's last window).
  Bytes scope(int64_t begin, int64_t end, bool start_grad, bool with_final, bool root, int64_t root_terms) const;
  int64_t loss_terms(int64_t begin, int64_t end) const;  // steps with a loss term in [begin, end)
  size_t full_bptt() const;   // record_full + backward: the tape's peak values + gradients
  size_t head_tape() const;   // the checkpointed run's separate loss-head tape (finals leaf + final loss)
  size_t snapshot(int64_t t) const;  // one stored state entering step t (not rounded: host memory)
  size_t host_buffers() const;       // the checkpointed run's fixed host buffers
};

// The textbook figures: B·T·d·elem for the hidden states alone, twice that with pre-activations.
size_t hidden_state_bytes(int64_t batch, int64_t steps, int64_t hidden, size_t elem = sizeof(float));
size_t with_preactivation_bytes(int64_t batch, int64_t steps, int64_t hidden, size_t elem = sizeof(float));

}  // namespace reel::memory
