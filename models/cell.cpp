#include "models/cell.h"

#include <cmath>

#include "framework/ops.h"

namespace reel {

template <class T>
Cell<T>::Cell(const CellConfig& config) : config_(config) {
  if (config.input_dim <= 0 || config.hidden_dim <= 0)
    throw UsageError("cell '" + config.type + "': input_dim and hidden_dim must be > 0 (got " +
                     std::to_string(config.input_dim) + ", " + std::to_string(config.hidden_dim) + ")");
}

template <class T>
Parameter<T>& Cell<T>::add_parameter(ParameterStore<T>& store, const std::string& prefix, const std::string& name,
                                     const Shape& shape) {
  Parameter<T>& p = store.add(prefix + "." + name, shape);
  params_.push_back(&p);
  return p;
}

template <class T>
void Cell<T>::init_uniform(Parameter<T>& p, Rng& rng) const {
  const double bound = 1.0 / std::sqrt(static_cast<double>(config_.hidden_dim));
  for (T& v : p.value) v = static_cast<T>((2 * rng.uniform() - 1) * bound);
}

template <class T>
Var<T> Cell<T>::project_deferring_recurrent_grad(Tape<T>& tape, const Var<T>& Xt, const Var<T>& h0,
                                                 UnrollContext<T>& ctx, Parameter<T>& W_xh, Parameter<T>& W_hh,
                                                 Parameter<T>* b) const {
  const bool wanted = tape.fusion() && ctx.dense && ctx.batch < 64 && Xt.shape().rank == 3 && tape.grad_enabled() &&
                      (Xt.requires_grad() || tape.node(tape.param(W_xh).id()).requires_grad);
  if (!wanted) return Var<T>();
  ctx.flag = true;
  ctx.buffer[1] = tape.scratch(static_cast<size_t>(ctx.steps * ctx.batch * hidden_dim()));
  if (!b) return detail::rnn_projection(Xt, tape.param(W_xh), tape.param(W_hh), h0, ctx.buffer[1]);
  const Var<T> bias = tape.param(*b);
  return detail::rnn_projection(Xt, tape.param(W_xh), tape.param(W_hh), h0, ctx.buffer[1], &bias);
}

template class Cell<float>;
template class Cell<double>;

}  // namespace reel
