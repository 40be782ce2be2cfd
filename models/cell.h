#pragma once
/// \file
/// The cell seam. A recurrent cell is a set of named parameters plus one step,
///
/// \code{.unparsed}
///   state_t = step(tape, x_t, state_{t-1})        state: h, or (h, c) for an LSTM
/// \endcode
///
/// split in two so that a sequence's input projection is one GEMM for every cell:
///
/// \code{.unparsed}
///   P = project(X)                 every row of X (all timesteps, or a segment) · W_xh at once
///   state_t = step(tape, P_t, state_{t-1}, ctx)    the recurrence, recorded op by op on the tape
/// \endcode
///
/// The sequence runner (models/sequence_runner.h) unrolls any Cell over padded or packed batches,
/// layers and directions; memory strategies and checkpoints reach every cell through it. A new cell
/// is one file: derive from Cell, write project() and step(), and register it with
/// REEL_REGISTER_CELL (models/cell_registry.h) — see tests/test_cell_seam.cpp.
///
/// Weights are stored (in, out), as everywhere in reel: W_xh (input, G·hidden), W_hh (hidden,
/// G·hidden), the G gate blocks side by side in PyTorch's order (LSTM i, f, g, o; GRU r, z, n).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "framework/error.h"
#include "framework/parameter.h"
#include "framework/rng.h"
#include "framework/tape.h"

namespace reel {

/// A cell's state: [0] is h (the output); an LSTM adds c. Every part is (batch, hidden). A small
/// fixed-capacity list (no heap allocation per step): up to kMaxParts tensors.
template <class T>
class CellState {
 public:
  static constexpr int kMaxParts = 4;  ///< the most tensors a state holds
  CellState() = default;
  /// A state of these parts, h first
  CellState(std::initializer_list<Var<T>> parts) {
    for (const Var<T>& v : parts) push_back(v);
  }
  /// Appends a part; UsageError past kMaxParts
  void push_back(const Var<T>& v) {
    if (n_ == kMaxParts)
      throw UsageError("CellState: a state holds at most " + std::to_string(kMaxParts) + " tensors");
    parts_[n_++] = v;
  }
  size_t size() const { return static_cast<size_t>(n_); }  ///< number of parts
  bool empty() const { return n_ == 0; }  ///< whether it holds no part
  /// Part i; UsageError if there is none
  const Var<T>& at(size_t i) const {
    if (i >= size())
      throw UsageError("CellState::at: part " + std::to_string(i) + " of a state of " + std::to_string(n_));
    return parts_[i];
  }
  /// Part i, unchecked.
  ///@{
  Var<T>& operator[](size_t i) { return parts_[i]; }
  const Var<T>& operator[](size_t i) const { return parts_[i]; }
  ///@}
  /// The parts, for range-for.
  ///@{
  Var<T>* begin() { return parts_; }
  Var<T>* end() { return parts_ + n_; }
  const Var<T>* begin() const { return parts_; }
  const Var<T>* end() const { return parts_ + n_; }
  ///@}

 private:
  Var<T> parts_[kMaxParts];
  int n_ = 0;
};

/// What a cell is built from: its registered type and sizes.
struct CellConfig {
  std::string type = "rnn";  ///< the registry's name: "rnn", "lstm", "gru", or a user cell's
  int64_t input_dim = 0;  ///< features of x_t (> 0)
  int64_t hidden_dim = 0;  ///< size of h (> 0)
  std::string activation = "tanh";  ///< the vanilla cell's nonlinearity (tanh | relu); others ignore it
};

/// What one unroll (a sequence, or a segment of one) lends its cell: the runner makes one per
/// direction, sets t before every step, and the cell may keep scratch in it (tape storage, alive
/// until the tape is cleared) — the vanilla cell's fused step keeps its z buffer and the block of
/// all h_t there.
template <class T>
struct UnrollContext {
  int64_t steps = 0;   ///< steps of the unroll
  int64_t batch = 0;   ///< rows at the first step
  bool dense = true;   ///< every step has `batch` rows (padded); false: packed, rows shrink or grow
  int64_t t = 0;       ///< the step being recorded, 0-based within the unroll
  /// Scratch in tape storage: [0] a step's reusable scratch (step_scratch), [1] the block of every
  /// h_t when flag is set
  T* buffer[2] = {nullptr, nullptr};
  /// Set by project_deferring_recurrent_grad: steps write h into state_block() and leave dW_hh to
  /// the projection
  bool flag = false;
};

/// A recurrent cell: named parameters plus project() and step() (see the file description). Derive
/// from it and register the class with REEL_REGISTER_CELL for a cell of your own.
template <class T>
class Cell {
 public:
  virtual ~Cell() = default;
  Cell(const Cell&) = delete;
  Cell& operator=(const Cell&) = delete;

  const CellConfig& config() const { return config_; }  ///< the configuration it was built from
  int64_t input_dim() const { return config_.input_dim; }  ///< features of x_t
  int64_t hidden_dim() const { return config_.hidden_dim; }  ///< size of h
  /// Tensors in the state (1: h; 2: h and c).
  virtual int state_size() const { return 1; }
  /// Columns of the input projection: G·hidden for G gate blocks.
  virtual int64_t projection_dim() const = 0;

  /// X (rows, input) -> (rows, projection_dim), one GEMM, with the biases that belong to the input side.
  virtual Var<T> project(Tape<T>& tape, const Var<T>& X) const = 0;
  /// One step from xp_t (batch, projection_dim), rows of project()'s output, and the previous state
  /// (each part (batch, hidden)). ctx is null for a step outside an unroll.
  virtual CellState<T> step(Tape<T>& tape, const Var<T>& xp_t, const CellState<T>& prev, UnrollContext<T>* ctx) const = 0;
  /// Called once before an unroll's steps with its whole input: Xt (steps, batch, input) time-major
  /// when ctx.dense, else (rows, input) packed. Returns the projection the steps read. The default
  /// is project(); a cell may set up ctx here (scratch, a projection whose backward does more).
  virtual Var<T> begin_unroll(Tape<T>& tape, const Var<T>& Xt, const CellState<T>& s0, UnrollContext<T>& ctx) const {
    (void)s0;
    (void)ctx;
    return project(tape, Xt);
  }

  /// Elements of scratch a step may reuse from one step to the next when ctx->buffer[0] holds that
  /// many (tape storage) for `rows` rows; 0: none. Unrolls (with the tape's fusion on) and the
  /// stepwise form of memory strategies lend it.
  virtual size_t step_scratch(int64_t rows) const {
    (void)rows;
    return 0;
  }

  /// The step equation on a raw input: step(project(x_t), prev).
  CellState<T> step_input(Tape<T>& tape, const Var<T>& x_t, const CellState<T>& prev) const {
    return step(tape, project(tape, x_t), prev, nullptr);
  }
  /// A zero state for `batch` rows.
  CellState<T> zero_state(Tape<T>& tape, int64_t batch) const {
    CellState<T> s;
    for (int i = 0; i < state_size(); ++i) s.push_back(tape.zeros(Shape{batch, hidden_dim()}));
    return s;
  }
  /// In creation order (the order they were drawn from the Rng).
  const std::vector<Parameter<T>*>& parameters() const { return params_; }

 protected:
  /// For derived cells; throws UsageError unless input_dim and hidden_dim are > 0.
  explicit Cell(const CellConfig& config);
  /// Registers a parameter `<prefix>.<name>` in the store, remembers it in parameters(), and returns it.
  Parameter<T>& add_parameter(ParameterStore<T>& store, const std::string& prefix, const std::string& name,
                              const Shape& shape);
  /// PyTorch's RNN initialisation: every value ~ U(-1/sqrt(hidden), 1/sqrt(hidden)).
  void init_uniform(Parameter<T>& p, Rng& rng) const;
  /// For a cell whose recurrent product's gradient is its input projection's (dm_t = dP_t: the
  /// vanilla and LSTM steps add m_t to xp_t and nothing else): in a dense unroll at small batches
  /// (fusion on, gradients wanted), X·W_xh through detail::rnn_projection, whose backward does
  /// dW_hh += [h0; H]ᵀ·dP in one GEMM instead of T thin ones (K = batch). Sets ctx.flag and
  /// ctx.buffer[1] (the (T·B, d) block every h_t must be written to, with the step's matmul
  /// deferring dW). Returns an empty Var where it does not apply. Measured 1 thread, seq 100:
  /// vanilla train step -7.5 % at batch 32 hidden 512; at batch 128 the per-step GEMMs are as fast.
  /// With b, the projection is X·W_xh + b in one pass (linear()).
  Var<T> project_deferring_recurrent_grad(Tape<T>& tape, const Var<T>& Xt, const Var<T>& h0, UnrollContext<T>& ctx,
                                          Parameter<T>& W_xh, Parameter<T>& W_hh, Parameter<T>* b = nullptr) const;
  /// Where step t writes h when ctx.flag is set (null otherwise).
  T* state_block(const UnrollContext<T>* ctx, int64_t rows) const {
    return ctx && ctx->flag ? ctx->buffer[1] + ctx->t * rows * hidden_dim() : nullptr;
  }

  CellConfig config_;  ///< the configuration
  std::vector<Parameter<T>*> params_;  ///< the parameters, in creation order (add_parameter appends)
};

}  // namespace reel
