// Fused forwards: several ops of the unrolled graph computed in one pass, each still recorded as
// its own op with its own backward (framework/ops/backward.h), so gradients, the graph export and
// the record counts are those of the op-by-op forward.
#include <type_traits>
#include <string>

#include "framework/blas.h"
#include "framework/blas_packed.h"
#include "framework/ops.h"
#include "framework/ops/backward.h"

namespace reel {

namespace {

// P = X·W_xh's backward, plus the recurrent weight's gradient over the whole sequence in one GEMM:
// dW_hh += h0ᵀ·dP_0 + [h_1; ...; h_{T-1}]ᵀ·[dP_1; ...; dP_{T-1}]. extra: {W_hh id, h0 id, H}.
template <class T>
void projection_backward(Tape<T>& tape, const Record<T>& r) {
  detail::matmul_backward(tape, r);
  const int64_t* info = static_cast<const int64_t*>(r.extra);
  T* dW = tape.grad(static_cast<int32_t>(info[0]));
  if (!dW) return;
  const Node<T>& P = tape.node(r.out);
  const int64_t steps = P.shape[0], B = P.shape[1], G = P.shape[2];
  const int64_t d = tape.node(static_cast<int32_t>(info[0])).shape[0];  // W_hh (d, G)
  const T* dP = P.grad;
  const T* h0 = tape.node(static_cast<int32_t>(info[1])).value;
  const T* H = reinterpret_cast<const T*>(static_cast<intptr_t>(info[2]));
  blas::gemm(true, false, d, G, B, T(1), h0, d, dP, G, T(1), dW, G);
  if (steps > 1) blas::gemm(true, false, d, G, (steps - 1) * B, T(1), H, d, dP + B * G, G, T(1), dW, G);
}

}  // namespace

namespace detail {

template <class T>
void recurrent_gemm(Tape<T>& tape, const Var<T>& h, const Var<T>& W, T* z) {
  const int64_t B = h.shape()[0], K = h.shape()[1], N = W.shape()[1];
  if (const blas::PackedB* p = tape.packed_param(W.id(), false)) {
    if constexpr (std::is_same_v<T, float>) {
      blas::gemm_packed(B, h.data(), K, *p, 1.0f, z, N);
      return;
    }
  }
  blas::gemm(false, false, B, N, K, T(1), h.data(), K, W.data(), N, T(1), z, N);
}
template void recurrent_gemm(Tape<float>&, const Var<float>&, const Var<float>&, float*);
template void recurrent_gemm(Tape<double>&, const Var<double>&, const Var<double>&, double*);

template <class T>
Var<T> record_recurrent_product(Tape<T>& tape, const Var<T>& h_prev, const Var<T>& W, bool defer_weight_grad) {
  const Shape sh = h_prev.shape();
  Var<T> m = tape.make_unmaterialized(Shape{sh[0], W.shape()[1]}, OpKind::MatMul);
  const size_t saved_h = tape.node(h_prev.id()).is_param ? 0 : static_cast<size_t>(sh.size()) * sizeof(T);
  if (Record<T>* r = tape.record(OpKind::MatMul, &matmul_backward<T>, m, {h_prev.id(), W.id()}, saved_h))
    r->aux[2] = defer_weight_grad;  // aux {0, 0, defer}: rnn_projection's backward computes dW
  return m;
}
template Var<float> record_recurrent_product(Tape<float>&, const Var<float>&, const Var<float>&, bool);
template Var<double> record_recurrent_product(Tape<double>&, const Var<double>&, const Var<double>&, bool);

template <class T>
Var<T> rnn_projection(const Var<T>& X, const Var<T>& W_xh, const Var<T>& W_hh, const Var<T>& h0, T* H,
                      const Var<T>* b) {
  Tape<T>& tape = X.tape();
  for (const Var<T>* v : {&X, &W_xh, &W_hh, &h0}) tape.check(*v, "rnn_projection");
  const Shape sx = X.shape(), sw = W_xh.shape(), sh = W_hh.shape(), s0 = h0.shape();
  if (sx.rank != 3 || sw.rank != 2 || sw[0] != sx[2] || sh.rank != 2 || sh[1] != sw[1] || s0.rank != 2 ||
      s0 != Shape{sx[1], sh[0]})
    throw ShapeError("rnn_projection: expected X (T, B, n), W_xh (n, G), W_hh (d, G), h0 (B, d); got X " + sx.str() +
                     ", W_xh " + sw.str() + ", W_hh " + sh.str() + ", h0 " + s0.str());
  const int64_t steps = sx[0], B = sx[1], n = sx[2], d = sw[1];  // d: the projection's width G
  if (b && (tape.check(*b, "rnn_projection"), b->shape() != Shape{d}))
    throw ShapeError("rnn_projection: bias must be (" + std::to_string(d) + "), got " + b->shape().str());
  // With a bias, P keeps no value: P + b (a bias_add record, as linear() makes) holds the sum.
  Var<T> P = b ? tape.make_unmaterialized(Shape{steps, B, d}, OpKind::MatMul)
               : tape.make(Shape{steps, B, d}, OpKind::MatMul, false);
  size_t saved = tape.node(X.id()).is_param ? 0 : static_cast<size_t>(sx.size()) * sizeof(T);
  if (Record<T>* r = tape.record(OpKind::MatMul, &projection_backward<T>, P, {X.id(), W_xh.id()}, saved)) {
    int64_t* info = tape.ints(3);
    info[0] = W_hh.id();
    info[1] = h0.id();
    info[2] = static_cast<int64_t>(reinterpret_cast<intptr_t>(H));
    r->extra = info;
  } else if (tape.grad_enabled() && tape.node(W_hh.id()).requires_grad) {
    // The cells would skip dW_hh, counting on this record's backward, which does not exist.
    throw UsageError("rnn_projection: neither X nor W_xh needs a gradient, so the record that accumulates W_hh's "
                     "gradient is not made; use matmul and cells without defer_weight_grad");
  }
  if (!b) {
    blas::gemm(false, false, steps * B, d, n, T(1), X.data(), n, W_xh.data(), d, T(0), P.data(), d);
    return P;
  }
  Var<T> y = tape.make(Shape{steps, B, d}, OpKind::BiasAdd, false);
  fill_rows(y.data(), steps * B, b->data(), d);
  blas::gemm(false, false, steps * B, d, n, T(1), X.data(), n, W_xh.data(), d, T(1), y.data(), d);
  tape.record(OpKind::BiasAdd, &bias_add_backward<T>, y, {P.id(), b->id()}, 0);
  return y;
}

}  // namespace detail

template <class T>
Var<T> rnn_cell(const Var<T>& a, const Var<T>& h_prev, const Var<T>& W, const Var<T>& b, OpKind act, T* z_buffer,
                T* h_out, bool defer_weight_grad) {
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
  const int64_t B = sa[0], d = sa[1], n = B * d;

  // One pass: z = a + b, then the GEMM accumulates h_prev·W into it (beta = 1, so BLAS neither
  // zero-fills a product buffer nor needs a separate add), then the activation reads z.
  T* z = z_buffer ? z_buffer : tape.scratch(static_cast<size_t>(n));
  const T* pa = a.data();
  const T* pb = b.data();
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < d; ++j) z[i * d + j] = pa[i * d + j] + pb[j];
  detail::recurrent_gemm(tape, h_prev, W, z);

  // The graph: m = h_prev·W, s = a + m, z = s + b (values not kept), h = act(z).
  Var<T> m = detail::record_recurrent_product(tape, h_prev, W, defer_weight_grad);
  Var<T> s = tape.make_unmaterialized(Shape{B, d}, OpKind::Add);
  tape.record(OpKind::Add, &detail::add_backward<T>, s, {a.id(), m.id()}, 0);
  Var<T> zv = tape.make_unmaterialized(Shape{B, d}, OpKind::BiasAdd);
  tape.record(OpKind::BiasAdd, &detail::bias_add_backward<T>, zv, {s.id(), b.id()}, 0);
  Var<T> h = h_out ? tape.make_view(Shape{B, d}, act, h_out) : tape.make(Shape{B, d}, act, false);
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
                             float*, float*, bool);
template Var<double> rnn_cell(const Var<double>&, const Var<double>&, const Var<double>&, const Var<double>&, OpKind,
                              double*, double*, bool);
namespace detail {
template Var<float> rnn_projection(const Var<float>&, const Var<float>&, const Var<float>&, const Var<float>&,
                                   float*, const Var<float>*);
template Var<double> rnn_projection(const Var<double>&, const Var<double>&, const Var<double>&, const Var<double>&,
                                    double*, const Var<double>*);
}  // namespace detail

}  // namespace reel
