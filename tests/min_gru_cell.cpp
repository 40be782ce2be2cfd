// A test-only cell in one file, to show that a new cell needs nothing outside it: a minimal GRU
// (an update gate and a candidate, no reset gate),
//
//   [a_z a_n] = x·W_xh + b_h        [m_z m_n] = h_{t-1}·W_hh
//   z = σ(a_z + m_z)    n = tanh(a_n + m_n)    h_t = n + z ⊙ (h_{t-1} - n)
//
// Registered as "mingru", it gets packing, padding, layers, directions, gradient checkpointing,
// truncated BPTT and checkpoint save/load from the runner (tests/test_cell_seam.cpp).
#include "framework/ops.h"
#include "models/cell_registry.h"

namespace reel::testing {

template <class T>
class MinimalGRU : public Cell<T> {
 public:
  using value_type = T;
  MinimalGRU(ParameterStore<T>& store, const CellConfig& config, Rng& rng, const std::string& prefix)
      : Cell<T>(config),
        W_xh(this->add_parameter(store, prefix, "W_xh", Shape{config.input_dim, 2 * config.hidden_dim})),
        W_hh(this->add_parameter(store, prefix, "W_hh", Shape{config.hidden_dim, 2 * config.hidden_dim})),
        b_h(this->add_parameter(store, prefix, "b_h", Shape{2 * config.hidden_dim})) {
    for (Parameter<T>* p : this->parameters()) this->init_uniform(*p, rng);
  }
  int64_t projection_dim() const override { return 2 * this->hidden_dim(); }
  Var<T> project(Tape<T>& tape, const Var<T>& X) const override {
    return bias_add(matmul(X, tape.param(W_xh)), tape.param(b_h));
  }
  CellState<T> step(Tape<T>& tape, const Var<T>& xp, const CellState<T>& prev, UnrollContext<T>*) const override {
    const int64_t d = this->hidden_dim();
    Var<T> m = matmul(prev[0], tape.param(W_hh));
    Var<T> z = sigmoid(add(slice_cols(xp, 0, d), slice_cols(m, 0, d)));
    Var<T> n = tanh(add(slice_cols(xp, d, 2 * d), slice_cols(m, d, 2 * d)));
    return {add(n, mul(z, sub(prev[0], n)))};
  }
  Parameter<T>& W_xh;
  Parameter<T>& W_hh;
  Parameter<T>& b_h;
};

REEL_REGISTER_CELL("mingru", MinimalGRU);

}  // namespace reel::testing
