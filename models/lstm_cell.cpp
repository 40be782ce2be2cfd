// The LSTM cell, PyTorch's equations and gate order (i, f, g, o):
//
//   [i f g o] = x·W_xh + b_h  +  h_{t-1}·W_hh         one (batch, 4·hidden) product per step
//   i, f, o = σ(·)   g = tanh(·)
//   c_t = f ⊙ c_{t-1} + i ⊙ g
//   h_t = o ⊙ tanh(c_t)
//
// W_xh (input, 4·hidden) and W_hh (hidden, 4·hidden) are PyTorch's weight_ih/weight_hh transposed;
// b_h is bias_ih + bias_hh (the input projection adds it). PyTorch's initialisation:
// U(-1/sqrt(hidden), 1/sqrt(hidden)), drawn W_xh, W_hh, b_h.
#include "framework/ops.h"
#include "models/cell_registry.h"

namespace reel {
namespace {

template <class T>
class LSTMCell : public Cell<T> {
 public:
  using value_type = T;
  LSTMCell(ParameterStore<T>& store, const CellConfig& config, Rng& rng, const std::string& prefix)
      : Cell<T>(config),
        W_xh(this->add_parameter(store, prefix, "W_xh", Shape{config.input_dim, 4 * config.hidden_dim})),
        W_hh(this->add_parameter(store, prefix, "W_hh", Shape{config.hidden_dim, 4 * config.hidden_dim})),
        b_h(this->add_parameter(store, prefix, "b_h", Shape{4 * config.hidden_dim})) {
    for (Parameter<T>* p : this->parameters()) this->init_uniform(*p, rng);
  }

  int state_size() const override { return 2; }
  int64_t projection_dim() const override { return 4 * this->hidden_dim(); }
  size_t step_scratch(int64_t rows) const override { return static_cast<size_t>(rows * 4 * this->hidden_dim()); }

  Var<T> project(Tape<T>& tape, const Var<T>& X) const override {
    if (tape.fusion()) return linear(X, tape.param(W_xh), tape.param(b_h));  // the same records, one pass
    return bias_add(matmul(X, tape.param(W_xh)), tape.param(b_h));
  }

  // W_hh's gradient in one GEMM over the sequence where it pays (Cell::project_deferring_recurrent_grad).
  Var<T> begin_unroll(Tape<T>& tape, const Var<T>& Xt, const CellState<T>& s0, UnrollContext<T>& ctx) const override {
    Var<T> P = this->project_deferring_recurrent_grad(tape, Xt, s0[0], ctx, W_xh, W_hh, &b_h);
    return P.valid() ? P : project(tape, Xt);
  }

  CellState<T> step(Tape<T>& tape, const Var<T>& xp_t, const CellState<T>& prev, UnrollContext<T>* ctx) const override {
    if (prev.size() != 2) throw UsageError("LSTM cell: the state holds two tensors (h, c), got " + std::to_string(prev.size()));
    if (tape.fusion()) {  // one pass, the same records as below (framework/ops/fused_lstm.cpp)
      const auto s = lstm_cell(xp_t, prev[0], prev[1], tape.param(W_hh), ctx ? ctx->buffer[0] : nullptr,
                               this->state_block(ctx, xp_t.shape()[0]), ctx && ctx->flag);
      tape.set_role(s[0], "h");
      tape.set_role(s[1], "c");
      return {s[0], s[1]};
    }
    return step_composed(tape, xp_t, prev);
  }

  // The step op by op, every value kept.
  CellState<T> step_composed(Tape<T>& tape, const Var<T>& xp_t, const CellState<T>& prev) const {
    const int64_t d = this->hidden_dim();
    Var<T> gates = add(xp_t, matmul(prev[0], tape.param(W_hh)));
    Var<T> i = sigmoid(slice_cols(gates, 0, d));
    Var<T> f = sigmoid(slice_cols(gates, d, 2 * d));
    Var<T> g = tanh(slice_cols(gates, 2 * d, 3 * d));
    Var<T> o = sigmoid(slice_cols(gates, 3 * d, 4 * d));
    Var<T> fc = mul(f, prev[1]);  // named: the record order is fixed
    Var<T> ig = mul(i, g);
    Var<T> c = add(fc, ig);
    Var<T> h = mul(o, tanh(c));
    tape.set_role(h, "h");
    tape.set_role(c, "c");
    return {h, c};
  }

  Parameter<T>& W_xh;
  Parameter<T>& W_hh;
  Parameter<T>& b_h;
};

}  // namespace

namespace detail {
void register_lstm_cell() { register_cell_template<LSTMCell>("lstm"); }
}  // namespace detail

}  // namespace reel
