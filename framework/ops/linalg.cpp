// Matrix products, plain and batched. Forward and backward side by side; both go to BLAS.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "framework/blas.h"
#include "framework/blas_packed.h"
#include "framework/ops.h"
#include "framework/ops/backward.h"

namespace reel {

// aux: {trans_a, trans_b, unused}. Shapes (stored): a (M,K) or (K,M) if trans_a; b likewise.
namespace detail {
template <class T>
void matmul_backward(Tape<T>& tape, const Record<T>& r) {
  const bool ta = r.aux[0] != 0, tb = r.aux[1] != 0;
  const Node<T>& A = tape.node(r.in[0]);
  const Node<T>& B = tape.node(r.in[1]);
  const Node<T>& C = tape.node(r.out);
  const int64_t lda = A.shape.last(), ldb = B.shape.last();
  const int64_t m = C.shape.rows(), n = C.shape.last();
  const int64_t k = ta ? A.shape.rows() : lda;
  const T* dc = C.grad;
  bool fresh;  // a gradient with no contribution yet is written with beta = 0 (no zero-fill)
  if (T* da = tape.grad_for_write(r.in[0], &fresh)) {
    const T beta = fresh ? T(0) : T(1);
    const blas::PackedB* packed = !ta && !tb ? tape.packed_param(r.in[1], true) : nullptr;
    if (packed) {  // dA(M,K) += dC(M,N) · Bᵀ on its packed copy (float)
      if constexpr (std::is_same_v<T, float>) blas::gemm_packed(m, dc, n, *packed, beta, da, k);
    } else if (!ta && !tb && B.is_param && B.shape.rank == 2) {  // dA(M,K) += dC(M,N) · (Bᵀ cached, (N,K))
      blas::gemm(false, false, m, k, n, T(1), dc, n, tape.transposed_param(r.in[1]), k, beta, da, k);
    } else if (!ta) {  // dA(M,K) += dC(M,N) · op(B)ᵀ
      blas::gemm(false, !tb, m, k, n, T(1), dc, n, B.value, ldb, beta, da, k);
    } else {  // dA(K,M) += op(B)(K,N) · dCᵀ
      blas::gemm(tb, true, k, m, n, T(1), B.value, ldb, dc, n, beta, da, m);
    }
  }
  if (r.aux[2]) return;  // the weight's gradient is accumulated elsewhere (rnn_projection)
  if (T* db = tape.grad_for_write(r.in[1], &fresh)) {
    const T beta = fresh ? T(0) : T(1);
    if (!tb)  // dB(K,N) += op(A)ᵀ · dC
      blas::gemm(!ta, false, k, n, m, T(1), A.value, lda, dc, n, beta, db, n);
    else      // dB(N,K) += dCᵀ · op(A)
      blas::gemm(true, ta, n, k, m, T(1), dc, n, A.value, lda, beta, db, k);
  }
}

template void matmul_backward(Tape<float>&, const Record<float>&);
template void matmul_backward(Tape<double>&, const Record<double>&);
}  // namespace detail

template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, bool trans_a, bool trans_b) {
  Tape<T>& tape = a.tape();
  tape.check(a, "matmul");
  tape.check(b, "matmul");
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  if (sb.rank != 2) throw_shape("matmul", "right operand must be rank 2", sa, sb);
  if (sa.rank < 2 || sa.rank > 3 || (trans_a && sa.rank != 2))
    throw_shape("matmul", trans_a ? "transposed left operand must be rank 2"
                                  : "left operand must be rank 2 or 3",
                sa, sb);
  const int64_t m = trans_a ? sa[1] : sa.rows();
  const int64_t k = trans_a ? sa[0] : sa.last();
  const int64_t kb = trans_b ? sb[1] : sb[0];
  const int64_t n = trans_b ? sb[0] : sb[1];
  if (k != kb) throw_shape("matmul", "inner dimensions differ", sa, sb);
  Shape out = sa.rank == 3 ? Shape{sa[0], sa[1], n} : Shape{m, n};
  Var<T> y = tape.make(out, OpKind::MatMul, false);
  // C(M,N) = op(A) · op(B)
  blas::gemm(trans_a, trans_b, m, n, k, T(1), a.data(), sa.last(), b.data(), sb.last(), T(0),
             y.data(), n);
  // Bytes kept alive for backward: the operands, except parameters (they live in their store).
  size_t saved = 0;
  if (!tape.node(a.id()).is_param) saved += static_cast<size_t>(sa.size()) * sizeof(T);
  if (!tape.node(b.id()).is_param) saved += static_cast<size_t>(sb.size()) * sizeof(T);
  if (Record<T>* r = tape.record(OpKind::MatMul, &detail::matmul_backward<T>, y, {a.id(), b.id()}, saved)) {
    r->aux[0] = trans_a;
    r->aux[1] = trans_b;
  }
  return y;
}

namespace detail {
template <class T>
void fill_rows(T* y, int64_t rows, const T* b, int64_t d) {
  for (int64_t i = 0; i < rows; ++i) std::memcpy(y + i * d, b, static_cast<size_t>(d) * sizeof(T));
}
template void fill_rows(float*, int64_t, const float*, int64_t);
template void fill_rows(double*, int64_t, const double*, int64_t);
}  // namespace detail

template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& W, const Var<T>& b) {
  Tape<T>& tape = x.tape();
  for (const Var<T>* v : {&x, &W, &b}) tape.check(*v, "linear");
  const Shape sx = x.shape(), sw = W.shape(), sb = b.shape();
  if (sx.rank < 2 || sx.rank > 3 || sw.rank != 2 || sx.last() != sw[0] || sb.rank != 1 || sb[0] != sw[1])
    throw ShapeError("linear: expected x (rows, n) or (T, B, n), W (n, d), b (d); got x " + sx.str() + ", W " +
                     sw.str() + ", b " + sb.str());
  const int64_t m = sx.rows(), k = sx.last(), n = sw[1];
  const Shape out = sx.rank == 3 ? Shape{sx[0], sx[1], n} : Shape{m, n};
  // The composed graph, matmul then bias_add; the product keeps no value (neither backward reads it).
  Var<T> p = tape.make_unmaterialized(out, OpKind::MatMul);
  const size_t saved = tape.node(x.id()).is_param ? 0 : static_cast<size_t>(sx.size()) * sizeof(T);
  tape.record(OpKind::MatMul, &detail::matmul_backward<T>, p, {x.id(), W.id()}, saved);  // aux {0, 0, 0}
  Var<T> y = tape.make(out, OpKind::BiasAdd, false);
  detail::fill_rows(y.data(), m, b.data(), n);  // y = b, then the GEMM adds x·W (beta = 1)
  blas::gemm(false, false, m, n, k, T(1), x.data(), k, W.data(), n, T(1), y.data(), n);
  tape.record(OpKind::BiasAdd, &detail::bias_add_backward<T>, y, {p.id(), b.id()}, 0);
  return y;
}

namespace {
// y[i] = op(a[i]) · op(b[i]) for each batch entry i; aux: {trans_a, trans_b, unused}. Per entry,
// matmul's backward: dA_i (+)= dC_i · op(B_i)ᵀ (transposed: op(B_i) · dC_iᵀ), dB_i (+)= op(A_i)ᵀ ·
// dC_i (transposed: dC_iᵀ · op(A_i)), one GEMM each, beta = 0 on a fresh gradient (no zero-fill).
template <class T>
void bmm_backward(Tape<T>& tape, const Record<T>& r) {
  const bool ta = r.aux[0] != 0, tb = r.aux[1] != 0;
  const Node<T>& A = tape.node(r.in[0]);
  const Node<T>& B = tape.node(r.in[1]);
  const Node<T>& C = tape.node(r.out);
  const int64_t nb = C.shape[0], m = C.shape[1], n = C.shape[2];
  const int64_t lda = A.shape[2], ldb = B.shape[2];
  const int64_t k = ta ? A.shape[1] : lda;
  const int64_t sa = m * k, sb = k * n, sc = m * n;  // per-entry strides
  const T* dc = C.grad;
  if (m == 0 || n == 0 || k == 0) {  // nothing flows; the gradients exist, and are zero
    tape.grad(r.in[0]);
    tape.grad(r.in[1]);
    return;
  }
  bool fresh;
  if (T* da = tape.grad_for_write(r.in[0], &fresh)) {
    const T beta = fresh ? T(0) : T(1);
    for (int64_t i = 0; i < nb; ++i) {
      if (!ta)  // dA(M,K) += dC(M,N) · op(B)ᵀ
        blas::gemm(false, !tb, m, k, n, T(1), dc + i * sc, n, B.value + i * sb, ldb, beta, da + i * sa, k);
      else      // dA(K,M) += op(B)(K,N) · dCᵀ
        blas::gemm(tb, true, k, m, n, T(1), B.value + i * sb, ldb, dc + i * sc, n, beta, da + i * sa, m);
    }
  }
  if (T* db = tape.grad_for_write(r.in[1], &fresh)) {
    const T beta = fresh ? T(0) : T(1);
    for (int64_t i = 0; i < nb; ++i) {
      if (!tb)  // dB(K,N) += op(A)ᵀ · dC
        blas::gemm(!ta, false, k, n, m, T(1), A.value + i * sa, lda, dc + i * sc, n, beta, db + i * sb, n);
      else      // dB(N,K) += dCᵀ · op(A)
        blas::gemm(true, ta, n, k, m, T(1), dc + i * sc, n, A.value + i * sa, lda, beta, db + i * sb, k);
    }
  }
}
}  // namespace

template <class T>
Var<T> bmm(const Var<T>& a, const Var<T>& b, bool trans_a, bool trans_b) {
  Tape<T>& tape = a.tape();
  tape.check(a, "bmm");
  tape.check(b, "bmm");
  const Shape sa = a.shape();
  const Shape sb = b.shape();
  if (sa.rank != 3 || sb.rank != 3) throw_shape("bmm", "operands must be rank 3 (batch, rows, cols)", sa, sb);
  if (sa[0] != sb[0]) throw_shape("bmm", "batch sizes differ", sa, sb);
  const int64_t nb = sa[0];
  const int64_t m = trans_a ? sa[2] : sa[1];
  const int64_t k = trans_a ? sa[1] : sa[2];
  const int64_t kb = trans_b ? sb[2] : sb[1];
  const int64_t n = trans_b ? sb[1] : sb[2];
  if (k != kb) throw_shape("bmm", "inner dimensions differ", sa, sb);
  Var<T> y = tape.make(Shape{nb, m, n}, OpKind::BatchMatMul, false);
  const T* pa = a.data();
  const T* pb = b.data();
  T* pc = y.data();
  if (k == 0) {
    std::fill_n(pc, nb * m * n, T(0));  // an empty sum (BLAS would be given a zero stride)
  } else {
    for (int64_t i = 0; i < nb; ++i)  // C_i(M,N) = op(A_i) · op(B_i)
      blas::gemm(trans_a, trans_b, m, n, k, T(1), pa + i * m * k, sa[2], pb + i * k * n, sb[2], T(0),
                 pc + i * m * n, n);
  }
  // Bytes kept alive for backward: the operands, except parameters (they live in their store).
  size_t saved = 0;
  if (!tape.node(a.id()).is_param) saved += static_cast<size_t>(sa.size()) * sizeof(T);
  if (!tape.node(b.id()).is_param) saved += static_cast<size_t>(sb.size()) * sizeof(T);
  if (Record<T>* r = tape.record(OpKind::BatchMatMul, &bmm_backward<T>, y, {a.id(), b.id()}, saved)) {
    r->aux[0] = trans_a;
    r->aux[1] = trans_b;
  }
  return y;
}

template Var<float> matmul(const Var<float>&, const Var<float>&, bool, bool);
template Var<double> matmul(const Var<double>&, const Var<double>&, bool, bool);
template Var<float> linear(const Var<float>&, const Var<float>&, const Var<float>&);
template Var<double> linear(const Var<double>&, const Var<double>&, const Var<double>&);
template Var<float> bmm(const Var<float>&, const Var<float>&, bool, bool);
template Var<double> bmm(const Var<double>&, const Var<double>&, bool, bool);

}  // namespace reel
