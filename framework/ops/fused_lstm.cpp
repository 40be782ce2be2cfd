// The fused LSTM step (see lstm_cell in framework/ops.h): one GEMM, one elementwise pass, the
// composed ops' records.
#include <array>
#include <cstring>
#include <string>

#include "framework/blas.h"
#include "framework/ops.h"
#include "framework/ops/backward.h"

namespace reel {

namespace {

// i, f, g, o: a slice of the gates (no value kept) and its activation (kept: its backward reads
// it), recorded gate by gate as the composed step records them.
template <class T>
std::array<Var<T>, 4> gate_activations(Tape<T>& tape, const Var<T>& gates, const T* z, int64_t B, int64_t d) {
  const int64_t G = 4 * d;
  const size_t bytes = static_cast<size_t>(B * d) * sizeof(T);
  std::array<Var<T>, 4> act;
  for (int k = 0; k < 4; ++k) {
    Var<T> s = tape.make_unmaterialized(Shape{B, d}, OpKind::SliceCols);
    if (Record<T>* r = tape.record(OpKind::SliceCols, &detail::slice_cols_backward<T>, s, {gates.id()}, 0))
      r->aux[0] = k * d;
    const OpKind kind = k == 2 ? OpKind::Tanh : OpKind::Sigmoid;
    act[k] = tape.make(Shape{B, d}, kind, false);
    T* out = act[k].data();
    for (int64_t b = 0; b < B; ++b) {
      const T* in = z + b * G + k * d;
      if (k == 2) detail::tanh_forward(in, out + b * d, d);
      else detail::sigmoid_forward(in, out + b * d, d);
    }
    tape.record(kind, k == 2 ? &detail::tanh_backward<T> : &detail::sigmoid_backward<T>, act[k], {s.id()}, bytes);
  }
  return act;
}

}  // namespace

template <class T>
std::array<Var<T>, 2> lstm_cell(const Var<T>& xp, const Var<T>& h_prev, const Var<T>& c_prev, const Var<T>& W,
                                T* gates_buffer, T* h_out, bool defer_weight_grad) {
  Tape<T>& tape = xp.tape();
  for (const Var<T>* v : {&xp, &h_prev, &c_prev, &W}) tape.check(*v, "lstm_cell");
  const Shape sx = xp.shape(), sh = h_prev.shape(), sc = c_prev.shape(), sw = W.shape();
  if (sx.rank != 2 || sh.rank != 2 || sw.rank != 2 || sh[0] != sx[0] || sw[0] != sh[1] || sw[1] != sx[1] ||
      sx[1] != 4 * sh[1] || sc != sh)
    throw ShapeError("lstm_cell: expected xp (B, 4d), h_prev (B, d), c_prev (B, d), W (d, 4d); got xp " + sx.str() +
                     ", h_prev " + sh.str() + ", c_prev " + sc.str() + ", W " + sw.str());
  const int64_t B = sx[0], d = sh[1], G = 4 * d, n = B * d;
  const size_t bytes = static_cast<size_t>(n) * sizeof(T);

  // gates = xp + h_prev·W: the GEMM accumulates into a copy of xp (beta = 1).
  T* z = gates_buffer ? gates_buffer : tape.scratch(static_cast<size_t>(B * G));
  std::memcpy(z, xp.data(), static_cast<size_t>(B * G) * sizeof(T));
  detail::recurrent_gemm(tape, h_prev, W, z);

  Var<T> m = detail::record_recurrent_product(tape, h_prev, W, defer_weight_grad);
  Var<T> gates = tape.make_unmaterialized(Shape{B, G}, OpKind::Add);
  tape.record(OpKind::Add, &detail::add_backward<T>, gates, {xp.id(), m.id()}, 0);

  std::array<Var<T>, 4> act = gate_activations(tape, gates, z, B, d);
  const T* pi = act[0].data();
  const T* pf = act[1].data();
  const T* pg = act[2].data();
  const T* po = act[3].data();
  const T* pc = c_prev.data();

  // c = f ⊙ c_prev + i ⊙ g (the two products keep no value), h = o ⊙ tanh(c).
  Var<T> fc = tape.make_unmaterialized(Shape{B, d}, OpKind::Mul);
  tape.record(OpKind::Mul, &detail::mul_backward<T>, fc, {act[1].id(), c_prev.id()}, 2 * bytes);
  Var<T> ig = tape.make_unmaterialized(Shape{B, d}, OpKind::Mul);
  tape.record(OpKind::Mul, &detail::mul_backward<T>, ig, {act[0].id(), act[2].id()}, 2 * bytes);
  Var<T> c = tape.make(Shape{B, d}, OpKind::Add, false);
  T* pcn = c.data();
  for (int64_t i = 0; i < n; ++i) {
    const T a = pf[i] * pc[i];
    const T b = pi[i] * pg[i];
    pcn[i] = a + b;
  }
  tape.record(OpKind::Add, &detail::add_backward<T>, c, {fc.id(), ig.id()}, 0);
  Var<T> tc = tape.make(Shape{B, d}, OpKind::Tanh, false);
  detail::tanh_forward(pcn, tc.data(), n);
  tape.record(OpKind::Tanh, &detail::tanh_backward<T>, tc, {c.id()}, bytes);
  Var<T> h = h_out ? tape.make_view(Shape{B, d}, OpKind::Mul, h_out) : tape.make(Shape{B, d}, OpKind::Mul, false);
  T* ph = h.data();
  const T* ptc = tc.data();
  for (int64_t i = 0; i < n; ++i) ph[i] = po[i] * ptc[i];
  tape.record(OpKind::Mul, &detail::mul_backward<T>, h, {act[3].id(), tc.id()}, 2 * bytes);
  return {h, c};
}

template std::array<Var<float>, 2> lstm_cell(const Var<float>&, const Var<float>&, const Var<float>&,
                                             const Var<float>&, float*, float*, bool);
template std::array<Var<double>, 2> lstm_cell(const Var<double>&, const Var<double>&, const Var<double>&,
                                              const Var<double>&, double*, double*, bool);

}  // namespace reel
