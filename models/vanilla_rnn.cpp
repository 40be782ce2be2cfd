#include "models/vanilla_rnn.h"

#include <cmath>

#include "framework/ops.h"
#include "models/unroll.h"

namespace reel {

namespace {

RNNConfig validated(const RNNConfig& c) {
  parse_activation(c.activation);
  if (c.input_dim <= 0 || c.hidden_dim <= 0 || c.output_dim < 0)
    throw UsageError("VanillaRNN: dimensions must be positive (input " + std::to_string(c.input_dim) +
                     ", hidden " + std::to_string(c.hidden_dim) + ", output " + std::to_string(c.output_dim) + ")");
  return c;
}

CellConfig cell_config(const RNNConfig& c) {
  CellConfig cc;
  cc.type = "rnn";
  cc.input_dim = c.input_dim;
  cc.hidden_dim = c.hidden_dim;
  cc.activation = c.activation;
  return cc;
}

}  // namespace

template <class T>
VanillaRNN<T>::VanillaRNN(ParameterStore<T>& store, const RNNConfig& config, Rng& rng, const std::string& prefix)
    : config_(validated(config)),
      cell_(std::make_unique<VanillaCell<T>>(store, cell_config(config), rng, prefix)),
      W_xh(cell_->W_xh),
      W_hh(cell_->W_hh),
      b_h(cell_->b_h) {
  if (config.output_dim > 0) {
    const double d = static_cast<double>(config.hidden_dim), o = static_cast<double>(config.output_dim);
    W_hy = &store.add(prefix + ".W_hy", Shape{config.hidden_dim, config.output_dim});
    for (T& v : W_hy->value) v = static_cast<T>(rng.normal() * std::sqrt(2.0 / (d + o)));
    b_y = &store.add(prefix + ".b_y", Shape{config.output_dim});
  }
}

template <class T>
VanillaRNN<T>::~VanillaRNN() = default;

template <class T>
void VanillaRNN<T>::output_layer(Tape<T>& tape, Step& s) const {
  if (!W_hy) return;
  s.y = bias_add(matmul(s.h, tape.param(*W_hy)), tape.param(*b_y));  // y_t = h_t·W_hy + b_y
  tape.set_role(s.y, "y");
}

template <class T>
typename VanillaRNN<T>::Sequence VanillaRNN<T>::collect(Tape<T>& tape, const Unrolled<T>& u) const {
  Sequence out;
  for (size_t t = 0; t < u.states.size(); ++t) {
    StepScope<T> scope(tape, static_cast<int32_t>(t));
    Step s;
    s.h = u.states[t][0];
    output_layer(tape, s);
    out.hidden_states.push_back(s.h);
    if (W_hy) out.outputs.push_back(s.y);
  }
  out.final_hidden = u.final[0];
  return out;
}

template <class T>
typename VanillaRNN<T>::Step VanillaRNN<T>::recur(Tape<T>& tape, const Var<T>& a_t, const Var<T>& h_prev,
                                                  bool intermediates, T* z_buffer) const {
  Step s;
  if (!intermediates && tape.fusion()) {
    UnrollContext<T> ctx;
    ctx.buffer[0] = z_buffer;
    s.h = cell_->step(tape, a_t, {h_prev}, z_buffer ? &ctx : nullptr)[0];
  } else {
    auto p = cell_->step_unfused(tape, a_t, h_prev);
    s.h = p.h;
    tape.set_role(s.h, "h");
    if (intermediates) {
      s.input_contribution = a_t;
      s.memory_contribution = p.m;
      s.z = p.z;
    }
  }
  output_layer(tape, s);
  return s;
}

template <class T>
typename VanillaRNN<T>::Step VanillaRNN<T>::forward_step(Tape<T>& tape, const Var<T>& x_t, const Var<T>& h_prev,
                                                         bool intermediates) const {
  const Shape& sx = x_t.shape();
  if (sx.rank != 2 || sx[1] != config_.input_dim)
    throw_shape("VanillaRNN::forward_step", "x_t must be (batch, " + std::to_string(config_.input_dim) + ")", sx,
                h_prev.shape());
  if (h_prev.shape() != Shape{sx[0], config_.hidden_dim})
    throw_shape("VanillaRNN::forward_step", "h_prev must be (batch, " + std::to_string(config_.hidden_dim) + ")",
                sx, h_prev.shape());
  return recur(tape, cell_->project(tape, x_t), h_prev, intermediates);  // a_t = x_t·W_xh
}

template <class T>
typename VanillaRNN<T>::Sequence VanillaRNN<T>::forward_sequence(Tape<T>& tape, const Var<T>& X, const Var<T>& h0,
                                                                 bool intermediates) const {
  const Shape& sx = X.shape();
  if (sx.rank != 3 || sx[2] != config_.input_dim || sx[1] == 0)
    throw ShapeError("VanillaRNN::forward_sequence: X must be (batch, time >= 1, " +
                     std::to_string(config_.input_dim) + "), got " + sx.str());
  const int64_t B = sx[0], Tn = sx[1], d = config_.hidden_dim;
  Var<T> h = h0;
  if (!h.valid()) {
    h = tape.zeros(Shape{B, d});
    tape.set_role(h, "h0");
  } else if (h.shape() != Shape{B, d}) {
    throw_shape("VanillaRNN::forward_sequence", "h0 must be (batch, hidden)", Shape{B, d}, h.shape());
  }
  tape.set_role(X, "x");
  // All timesteps' input projections in one GEMM, time-major so each step's rows are a
  // contiguous slice (a view, no copy): (T, B, n)·W_xh -> (T·B, d).
  Var<T> Xt = time_major(X);
  tape.set_role(Xt, "x");
  Sequence out;
  out.hidden_states.reserve(static_cast<size_t>(Tn));
  if (W_hy) out.outputs.reserve(static_cast<size_t>(Tn));
  if (intermediates) {  // the reference's trace: every step op by op, every value kept
    Var<T> xp = reshape(cell_->project(tape, Xt), Shape{Tn * B, d});
    out.intermediates.reserve(static_cast<size_t>(Tn));
    for (int64_t t = 0; t < Tn; ++t) {
      StepScope<T> scope(tape, static_cast<int32_t>(t));
      Step s = recur(tape, slice_rows(xp, t * B, (t + 1) * B), h, true);
      h = s.h;
      out.hidden_states.push_back(s.h);
      if (W_hy) out.outputs.push_back(s.y);
      out.intermediates.push_back(s);
    }
    out.final_hidden = h;
    return out;
  }
  return collect(tape, unroll_dense(tape, *cell_, Xt, {h}));
}

template <class T>
typename VanillaRNN<T>::Sequence VanillaRNN<T>::forward_packed(Tape<T>& tape, const Var<T>& X_packed,
                                                               const std::vector<int64_t>& batch_sizes,
                                                               const Var<T>& h0) const {
  const int64_t total = check_batch_sizes(batch_sizes, "VanillaRNN::forward_packed");
  const Shape& sx = X_packed.shape();
  if (sx.rank != 2 || sx[0] != total || sx[1] != config_.input_dim)
    throw ShapeError("VanillaRNN::forward_packed: X_packed must be (" + std::to_string(total) + ", " +
                     std::to_string(config_.input_dim) + ") for these batch_sizes, got " + sx.str());
  const int64_t B = batch_sizes[0];
  Var<T> h = h0;
  if (!h.valid()) {
    h = tape.zeros(Shape{B, config_.hidden_dim});
    tape.set_role(h, "h0");
  } else if (h.shape() != Shape{B, config_.hidden_dim}) {
    throw_shape("VanillaRNN::forward_packed", "h0 must be (batch_sizes[0], hidden)", Shape{B, config_.hidden_dim},
                h.shape());
  }
  tape.set_role(X_packed, "x");
  return collect(tape, unroll_packed(tape, *cell_, X_packed, batch_sizes, {h}));
}

template class VanillaRNN<float>;
template class VanillaRNN<double>;

}  // namespace reel
