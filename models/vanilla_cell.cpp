#include "models/vanilla_cell.h"

#include <cmath>

#include "framework/ops.h"
#include "models/cell_registry.h"

namespace reel {

Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::Tanh;
  if (name == "relu") return Activation::Relu;
  throw UsageError("unknown activation '" + name + "' (expected 'tanh' or 'relu')");
}

const char* activation_name(Activation a) { return a == Activation::Tanh ? "tanh" : "relu"; }

namespace {
template <class T>
Parameter<T>& init_normal(Parameter<T>& p, Rng& rng, double scale) {
  for (T& v : p.value) v = static_cast<T>(rng.normal() * scale);
  return p;
}
}  // namespace

template <class T>
VanillaCell<T>::VanillaCell(ParameterStore<T>& store, const CellConfig& config, Rng& rng, const std::string& prefix)
    : Cell<T>(config),
      W_xh(this->add_parameter(store, prefix, "W_xh", Shape{config.input_dim, config.hidden_dim})),
      W_hh(this->add_parameter(store, prefix, "W_hh", Shape{config.hidden_dim, config.hidden_dim})),
      b_h(this->add_parameter(store, prefix, "b_h", Shape{config.hidden_dim})),
      act_(parse_activation(config.activation)) {
  const double n = static_cast<double>(config.input_dim), d = static_cast<double>(config.hidden_dim);
  init_normal(W_xh, rng, std::sqrt(2.0 / (n + d)));
  init_normal(W_hh, rng, std::sqrt(2.0 / (2.0 * d)));
}

template <class T>
Var<T> VanillaCell<T>::project(Tape<T>& tape, const Var<T>& X) const {
  return matmul(X, tape.param(W_xh));  // input contribution x·W_xh
}

template <class T>
typename VanillaCell<T>::Parts VanillaCell<T>::step_unfused(Tape<T>& tape, const Var<T>& a_t,
                                                            const Var<T>& h_prev) const {
  Parts p;
  p.m = matmul(h_prev, tape.param(W_hh));                 // memory contribution h_{t-1}·W_hh
  p.z = bias_add(add(a_t, p.m), tape.param(b_h));         // z_t = a_t + m_t + b_h
  p.h = act_ == Activation::Tanh ? tanh(p.z) : relu(p.z);
  return p;
}

template <class T>
size_t VanillaCell<T>::step_scratch(int64_t rows) const {
  return static_cast<size_t>(rows * this->hidden_dim());
}

template <class T>
Var<T> VanillaCell<T>::begin_unroll(Tape<T>& tape, const Var<T>& Xt, const CellState<T>& s0,
                                    UnrollContext<T>& ctx) const {
  Var<T> P = this->project_deferring_recurrent_grad(tape, Xt, s0[0], ctx, W_xh, W_hh);
  return P.valid() ? P : project(tape, Xt);
}

template <class T>
CellState<T> VanillaCell<T>::step(Tape<T>& tape, const Var<T>& xp_t, const CellState<T>& prev,
                                  UnrollContext<T>* ctx) const {
  if (prev.size() != 1) throw UsageError("VanillaCell::step: the state holds one tensor (h), got " + std::to_string(prev.size()));
  const OpKind act = act_ == Activation::Tanh ? OpKind::Tanh : OpKind::Relu;
  // Fused: z in the unroll's scratch (or fresh tape storage), h into its state block when the
  // projection accumulates dW_hh (begin_unroll).
  Var<T> h = !tape.fusion() ? step_unfused(tape, xp_t, prev[0]).h
                            : rnn_cell(xp_t, prev[0], tape.param(W_hh), tape.param(b_h), act, ctx ? ctx->buffer[0] : nullptr,
                                       this->state_block(ctx, xp_t.shape()[0]), ctx && ctx->flag);
  tape.set_role(h, "h");
  return {h};
}

template class VanillaCell<float>;
template class VanillaCell<double>;

namespace detail {
void register_vanilla_cell() { register_cell_template<VanillaCell>("rnn"); }
}  // namespace detail

}  // namespace reel
