#pragma once
/// \file
/// The vanilla (Elman) cell of the reference:
///
/// \code{.unparsed}
///   h_t = act(x_t·W_xh + h_{t-1}·W_hh + b_h)      act = tanh | relu
/// \endcode
///
/// project() is x·W_xh; the step adds h·W_hh and b_h. With the tape's fusion on, a step runs as one
/// pass (rnn_cell in framework/ops.h) recorded as its four ops; in a dense unroll below batch 64 the
/// projection's backward also accumulates W_hh's gradient over every step in one GEMM
/// (detail::rnn_projection). Initialisation as the reference: W ~ N(0,1)·sqrt(2/(fan_in+fan_out)),
/// b_h = 0, drawn W_xh then W_hh. PyTorch's weight_ih/weight_hh are W_xh/W_hh transposed, and its
/// two biases sum into b_h.
#include <string>

#include "models/cell.h"

namespace reel {

/// The vanilla cell's nonlinearity.
enum class Activation { Tanh, Relu };
/// "tanh" or "relu"; anything else throws UsageError naming it.
Activation parse_activation(const std::string& name);
const char* activation_name(Activation a);  ///< "tanh" or "relu"

/// The Elman cell "rnn" (see the file description).
template <class T>
class VanillaCell : public Cell<T> {
 public:
  using value_type = T;  ///< the element type (REEL_REGISTER_CELL needs it)
  /// Registers `<prefix>.W_xh`, `.W_hh`, `.b_h`; throws UsageError on an activation other than tanh or relu.
  VanillaCell(ParameterStore<T>& store, const CellConfig& config, Rng& rng, const std::string& prefix);

  int64_t projection_dim() const override { return this->hidden_dim(); }
  Var<T> project(Tape<T>& tape, const Var<T>& X) const override;
  CellState<T> step(Tape<T>& tape, const Var<T>& xp_t, const CellState<T>& prev, UnrollContext<T>* ctx) const override;
  Var<T> begin_unroll(Tape<T>& tape, const Var<T>& Xt, const CellState<T>& s0, UnrollContext<T>& ctx) const override;
  size_t step_scratch(int64_t rows) const override;  ///< the fused step's z: rows x hidden

  /// The step op by op (matmul, add, bias_add, act), every value kept: m = h·W_hh, z = a + m + b_h.
  struct Parts {
    /// m = h_prev·W_hh, z = a + m + b_h and h = act(z), each (batch, hidden).
    ///@{
    Var<T> m, z, h;
    ///@}
  };
  /// One step from a_t = x_t·W_xh (batch, hidden) and h_prev, recorded op by op, every value kept.
  Parts step_unfused(Tape<T>& tape, const Var<T>& a_t, const Var<T>& h_prev) const;

  Activation activation() const { return act_; }  ///< the nonlinearity

  Parameter<T>& W_xh;  ///< (input, hidden)
  Parameter<T>& W_hh;  ///< (hidden, hidden)
  Parameter<T>& b_h;  ///< (hidden)

 private:
  Activation act_;
};

}  // namespace reel
