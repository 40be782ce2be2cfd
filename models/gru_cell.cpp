// The GRU cell, PyTorch's equations and gate order (r, z, n):
//
//   [a_r a_z a_n] = x·W_xh + b_x          [m_r m_z m_n] = h_{t-1}·W_hh + b_h
//   r = σ(a_r + m_r)    z = σ(a_z + m_z)
//   n = tanh(a_n + r ⊙ m_n)
//   h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}       computed as n + z ⊙ (h_{t-1} - n)
//
// b_x and b_h are PyTorch's bias_ih and bias_hh (they cannot be summed: b_hn sits inside r ⊙ ·).
// W_xh (input, 3·hidden), W_hh (hidden, 3·hidden) are weight_ih/weight_hh transposed.
// PyTorch's initialisation: U(-1/sqrt(hidden), 1/sqrt(hidden)), drawn W_xh, W_hh, b_x, b_h.
#include "framework/ops.h"
#include "models/cell_registry.h"

namespace reel {
namespace {

template <class T>
class GRUCell : public Cell<T> {
 public:
  using value_type = T;
  GRUCell(ParameterStore<T>& store, const CellConfig& config, Rng& rng, const std::string& prefix)
      : Cell<T>(config),
        W_xh(this->add_parameter(store, prefix, "W_xh", Shape{config.input_dim, 3 * config.hidden_dim})),
        W_hh(this->add_parameter(store, prefix, "W_hh", Shape{config.hidden_dim, 3 * config.hidden_dim})),
        b_x(this->add_parameter(store, prefix, "b_x", Shape{3 * config.hidden_dim})),
        b_h(this->add_parameter(store, prefix, "b_h", Shape{3 * config.hidden_dim})) {
    for (Parameter<T>* p : this->parameters()) this->init_uniform(*p, rng);
  }

  int64_t projection_dim() const override { return 3 * this->hidden_dim(); }
  size_t step_scratch(int64_t rows) const override { return static_cast<size_t>(rows * 3 * this->hidden_dim()); }

  Var<T> project(Tape<T>& tape, const Var<T>& X) const override {
    if (tape.fusion()) return linear(X, tape.param(W_xh), tape.param(b_x));  // the same records, one pass
    return bias_add(matmul(X, tape.param(W_xh)), tape.param(b_x));
  }

  CellState<T> step(Tape<T>& tape, const Var<T>& xp_t, const CellState<T>& prev, UnrollContext<T>* ctx) const override {
    if (prev.size() != 1) throw UsageError("GRU cell: the state holds one tensor (h), got " + std::to_string(prev.size()));
    Var<T> h = tape.fusion()  // one pass, the same records as step_composed (framework/ops/fused_gru.cpp)
                   ? gru_cell(xp_t, prev[0], tape.param(W_hh), tape.param(b_h), ctx ? ctx->buffer[0] : nullptr)
                   : step_composed(tape, xp_t, prev[0]);
    tape.set_role(h, "h");
    return {h};
  }

  // The step op by op, every value kept (named temporaries fix the record order).
  Var<T> step_composed(Tape<T>& tape, const Var<T>& xp_t, const Var<T>& h_prev) const {
    const int64_t d = this->hidden_dim();
    Var<T> mm = matmul(h_prev, tape.param(W_hh));
    Var<T> m = bias_add(mm, tape.param(b_h));
    Var<T> gate[2];
    for (int k = 0; k < 2; ++k) {  // r, z
      Var<T> a = slice_cols(xp_t, k * d, (k + 1) * d);
      Var<T> b = slice_cols(m, k * d, (k + 1) * d);
      gate[k] = sigmoid(add(a, b));
    }
    Var<T> a_n = slice_cols(xp_t, 2 * d, 3 * d);
    Var<T> m_n = slice_cols(m, 2 * d, 3 * d);
    Var<T> n = tanh(add(a_n, mul(gate[0], m_n)));
    Var<T> hd = sub(h_prev, n);
    return add(n, mul(gate[1], hd));
  }

  Parameter<T>& W_xh;
  Parameter<T>& W_hh;
  Parameter<T>& b_x;
  Parameter<T>& b_h;
};

}  // namespace

namespace detail {
void register_gru_cell() { register_cell_template<GRUCell>("gru"); }
}  // namespace detail

}  // namespace reel
