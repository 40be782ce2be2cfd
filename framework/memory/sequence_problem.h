#pragma once
/// \file
/// A recurrent model's sequence loss written step by step, the form every memory strategy runs:
///
/// \code{.unparsed}
///   (s_t, h_t) = model.step(x_t, s_{t-1})      x_t from `input`; s the carried state, h the output
///   L   = Σ_t (c_t/N)·ℓ_t(h_t) + F(finals)      N = Σ c_t over the steps in scope
/// \endcode
///
/// The model is any memory::Recurrence (framework/memory/recurrence.h): SequenceRunner::stepwise()
/// gives one for any cell and number of layers. ℓ_t is an optional per-step loss (a tagger's head +
/// mean cross-entropy over the step's rows, c_t its row count); F an optional loss on each
/// sequence's last output (a classifier's head). Batches are packed as PyTorch packs them: step t computes batch_sizes[t] rows,
/// sequences sorted longest first, so a full-length batch is batch_sizes = {B, B, ..., B}.
///
/// Full BPTT (record_full), checkpointed BPTT (CheckpointedBPTT) and truncated BPTT
/// (TruncatedBPTT) all record a step with record_step, so they issue the same ops in the same
/// order: that is what makes their gradients bitwise equal where the docs claim so.
///
/// The input projection is one GEMM per step (not one over all steps, as SequenceRunner::forward
/// does): a checkpointed run cannot keep the (B, T, gates) projection, and per step the reference
/// and every schedule share one op order. Against SequenceRunner::forward the gradients agree to
/// rounding (W_xh's sum runs in another order), not bitwise.
#include <functional>
#include <memory>
#include <vector>

#include "framework/memory/cost_model.h"
#include "framework/memory/recurrence.h"
#include "framework/memory/seeded_sum.h"
#include "framework/tape.h"

namespace reel::memory {

/// A model's loss over one packed batch, step by step (see the file description).
template <class T>
struct SequenceProblem {
  const Recurrence<T>* model = nullptr;  ///< the model; it must outlive the problem
  std::vector<int64_t> batch_sizes;  ///< rows at step t: positive, non-increasing
  /// Records x_t, (batch_sizes[t], input_dim), on the tape.
  std::function<Var<T>(Tape<T>&, int64_t t)> input;
  bool input_grad = false;  ///< x_t gets a gradient (an embedding lookup): the estimator counts it
  /// Optional per-step loss term (a one-element value) on the output h_t (batch_sizes[t], output_dim),
  /// weighted c_t/N with c_t = step_counts[t].
  std::function<Var<T>(Tape<T>&, int64_t t, const Var<T>& h_t)> step_loss;
  std::vector<int64_t> step_counts;  ///< c_t: the weight of step t's loss term (its real rows)
  /// Optional loss on the last outputs: finals (batch_sizes[0], output_dim), row i = sequence i's h
  /// at its own last step, longest sequence first.
  std::function<Var<T>(Tape<T>&, const Var<T>& finals)> final_loss;
  std::vector<T> h0;  ///< the initial state (batch_sizes[0], state_dim); empty: zeros

  int64_t steps() const { return static_cast<int64_t>(batch_sizes.size()); }  ///< T
  int64_t batch() const { return batch_sizes.empty() ? 0 : batch_sizes[0]; }  ///< rows at step 0
  /// The model's state_dim (0 without a model)
  int64_t state_dim() const { return model ? model->state_dim() : 0; }
  /// The model's output_dim (0 without a model)
  int64_t output_dim() const { return model ? model->output_dim() : 0; }
  /// Rows of the state entering step t
  int64_t rows_into(int64_t t) const { return batch_sizes[static_cast<size_t>(t > 0 ? t - 1 : 0)]; }
  void validate(const char* who) const;  ///< throws UsageError naming who and the problem
};

/// What record_scope leaves on the tape.
template <class T>
struct Scope {
  /// The steps recorded: [begin, end).
  ///@{
  int64_t begin = 0, end = 0;
  ///@}
  Var<T> h_start;                    ///< leaf: the state entering step begin
  std::vector<Var<T>> h;             ///< the state s_t for t in [begin, end)
  std::vector<Var<T>> out;           ///< the output h_t for t in [begin, end)
  std::vector<Var<T>> terms;         ///< per-step loss terms, in step order
  std::vector<int64_t> term_steps;  ///< the step of each term
  std::vector<Var<T>> final_pieces;  ///< rows [batch_sizes[t+1], batch_sizes[t]) of output h_t, sequences ending at t
  std::vector<int64_t> final_steps;  ///< ascending
  std::vector<T*> scratch;           ///< the model's scratch, shared by the steps (Recurrence::begin_scope)
};

/// Records step t from the state s_prev (at least batch_sizes[t] rows). Returns s_t; appends to the scope.
template <class T>
Var<T> record_step(Tape<T>& tape, const SequenceProblem<T>& p, int64_t t, const Var<T>& h_prev,
                   Scope<T>& scope, bool with_loss = true);

/// Records steps [begin, end) from h_start (rows_into(begin) x hidden, copied onto the tape as a
/// leaf that needs a gradient if start_grad).
template <class T>
Scope<T> record_scope(Tape<T>& tape, const SequenceProblem<T>& p, int64_t begin, int64_t end,
                      const T* h_start, bool start_grad);

/// Runs steps [begin, end) without recording: h holds the state entering begin and leaves with
/// the state after end-1. Sequences ending on the way copy their last output into finals
/// ((batch, output_dim), sorted order) if given. per_step: the tape is cleared before every step
/// (memory stays at one step's values, two state copies per step); otherwise once, and the steps'
/// values stay on it (for a chunk at a time: no copies).
template <class T>
void advance(Tape<T>& tape, const SequenceProblem<T>& p, int64_t begin, int64_t end, std::vector<T>& h,
             T* finals = nullptr, bool per_step = true);

/// The finals on the tape for a scope ending at T: the scope's pieces (latest step first), then
/// the rows of sequences that ended before the scope, as a constant from finals_before.
template <class T>
Var<T> finals_on_tape(Tape<T>& tape, const SequenceProblem<T>& p, const Scope<T>& scope, const T* finals_before);

/// The root of a scope: Σ (c_t/N_scope)·ℓ_t over its terms, plus the final loss (weight 1) if
/// given, plus the seeds. Empty Var if there is nothing to differentiate.
template <class T>
Var<T> scope_root(const SequenceProblem<T>& p, const Scope<T>& scope, const Var<T>& final_term,
                  const std::vector<Seed<T>>& seeds, int64_t count_total);

/// Full BPTT: records the whole sequence on the (cleared) tape and returns the loss; the caller
/// calls tape.backward(loss). The reference every other strategy is compared with.
template <class T>
Var<T> record_full(Tape<T>& tape, const SequenceProblem<T>& p);

// ---- inputs
/// Dense x_t from time-major packed rows (sum(batch_sizes), features), as lay_out packs them.
template <class T>
std::function<Var<T>(Tape<T>&, int64_t)> packed_dense_input(std::shared_ptr<const std::vector<T>> rows,
                                                            int64_t features, const std::vector<int64_t>& batch_sizes);
/// Dense x_t from a full-length (batch, steps, features) array.
template <class T>
std::function<Var<T>(Tape<T>&, int64_t)> padded_dense_input(std::shared_ptr<const std::vector<T>> values,
                                                            int64_t batch, int64_t steps, int64_t features);
/// x_t = embedding rows of time-major packed token ids.
template <class T>
std::function<Var<T>(Tape<T>&, int64_t)> packed_embedding_input(Parameter<T>& weight,
                                                                std::shared_ptr<const std::vector<int64_t>> ids,
                                                                const std::vector<int64_t>& batch_sizes);

}  // namespace reel::memory

namespace reel::memory {
/// The dry-run model of a problem: its sizes, and the bytes of its steps and losses measured on
/// probe tapes, one step per distinct row count (framework/memory/cost_model.h).
/// measure = false: only the sizes (what host_buffers() and snapshot() need), no probe.
template <class T>
MemoryModel memory_model(const SequenceProblem<T>& p, bool measure = true);
/// Σ step_counts over [begin, end) (0 without a step loss).
template <class T>
int64_t count_in(const SequenceProblem<T>& p, int64_t begin, int64_t end);
}  // namespace reel::memory
