// Fused forwards: several ops of the unrolled graph computed in one pass, each still recorded as
// its own op with its own backward (framework/ops/backward.h), so gradients, the graph export and
// the record counts are those of the op-by-op forward.
#include <string>

#include "framework/blas.h"
#include "framework/ops.h"
#include "framework/ops/backward.h"

namespace reel {

template <class T>
Var<T> rnn_cell(const Var<T>& a, const Var<T>& h_prev, const Var<T>& W, const Var<T>& b, OpKind act, T* z_buffer) {
  Tape<T>& tape = a.tape();
  for (const Var<T>* v : {&a, &h_prev, &W, &b}) tape.check(*v, "rnn_cell");
  if (act != OpKind::Tanh && act != OpKind::Relu)
    throw UsageError(std::string("rnn_cell: activation must be tanh or relu, got ") + op_name(act));
  const Shape sa = a.shape(), sh = h_prev.shape(), sw = W.shape(), sb = b.shape();
  if (sa.rank != 2 || sh.rank != 2 || sw.rank != 2 || sh[0] != sa[0] || sw[0] != sh[1] || sw[1] != sa[1])
    throw ShapeError("rnn_cell: expected a (B, d), h_prev (B, k), W (k, d); got a " + sa.str() + ", h_prev " +
                     sh.str() + ", W " + sw.str());
  if (sb.rank != 1 || sb[0] != sa[1])
    throw ShapeError("rnn_cell: bias must be (" + std::to_string(sa[1]) + "), got " + sb.str());
  const int64_t B = sa[0], d = sa[1], k = sh[1], n = B * d;

  // One pass: z = a + b, then the GEMM accumulates h_prev·W into it (beta = 1, so BLAS neither
  // zero-fills a product buffer nor needs a separate add), then the activation reads z.
  T* z = z_buffer ? z_buffer : tape.scratch(static_cast<size_t>(n));
  const T* pa = a.data();
  const T* pb = b.data();
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < d; ++j) z[i * d + j] = pa[i * d + j] + pb[j];
  blas::gemm(false, false, B, d, k, T(1), h_prev.data(), k, W.data(), d, T(1), z, d);

  // The graph: m = h_prev·W, s = a + m, z = s + b (values not kept), h = act(z).
  Var<T> m = tape.make_unmaterialized(Shape{B, d}, OpKind::MatMul);
  const size_t saved_h = tape.node(h_prev.id()).is_param ? 0 : static_cast<size_t>(B * k) * sizeof(T);
  tape.record(OpKind::MatMul, &detail::matmul_backward<T>, m, {h_prev.id(), W.id()}, saved_h);  // aux {0, 0}
  Var<T> s = tape.make_unmaterialized(Shape{B, d}, OpKind::Add);
  tape.record(OpKind::Add, &detail::add_backward<T>, s, {a.id(), m.id()}, 0);
  Var<T> zv = tape.make_unmaterialized(Shape{B, d}, OpKind::BiasAdd);
  tape.record(OpKind::BiasAdd, &detail::bias_add_backward<T>, zv, {s.id(), b.id()}, 0);
  Var<T> h = tape.make(Shape{B, d}, act, false);
  T* ph = h.data();
  if (act == OpKind::Tanh) {
    detail::tanh_forward(z, ph, n);
    tape.record(OpKind::Tanh, &detail::tanh_backward<T>, h, {zv.id()}, static_cast<size_t>(n) * sizeof(T));
  } else {
    for (int64_t i = 0; i < n; ++i) ph[i] = z[i] > T(0) ? z[i] : T(0);
    tape.record(OpKind::Relu, &detail::relu_backward<T>, h, {zv.id()}, static_cast<size_t>(n) * sizeof(T));
  }
  return h;
}

template Var<float> rnn_cell(const Var<float>&, const Var<float>&, const Var<float>&, const Var<float>&, OpKind,
                             float*);
template Var<double> rnn_cell(const Var<double>&, const Var<double>&, const Var<double>&, const Var<double>&, OpKind,
                              double*);

}  // namespace reel
