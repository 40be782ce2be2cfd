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

  Var<T> project(Tape<T>& tape, const Var<T>& X) const override {
    return bias_add(matmul(X, tape.param(W_xh)), tape.param(b_x));
  }

  CellState<T> step(Tape<T>& tape, const Var<T>& xp_t, const CellState<T>& prev, UnrollContext<T>*) const override {
    if (prev.size() != 1) throw UsageError("GRU cell: the state holds one tensor (h), got " + std::to_string(prev.size()));
    const int64_t d = this->hidden_dim();
    Var<T> m = bias_add(matmul(prev[0], tape.param(W_hh)), tape.param(b_h));
    Var<T> r = sigmoid(add(slice_cols(xp_t, 0, d), slice_cols(m, 0, d)));
    Var<T> z = sigmoid(add(slice_cols(xp_t, d, 2 * d), slice_cols(m, d, 2 * d)));
    Var<T> n = tanh(add(slice_cols(xp_t, 2 * d, 3 * d), mul(r, slice_cols(m, 2 * d, 3 * d))));
    Var<T> h = add(n, mul(z, sub(prev[0], n)));
    tape.set_role(h, "h");
    return {h};
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
