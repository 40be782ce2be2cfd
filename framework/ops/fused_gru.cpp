// The fused GRU step (see gru_cell in framework/ops.h): one GEMM, one elementwise pass, the
// composed ops' records.
#include <cstring>
#include <string>

#include "framework/blas.h"
#include "framework/ops.h"
#include "framework/ops/backward.h"

namespace reel {

namespace {

template <class T>
Var<T> slice_record(Tape<T>& tape, const Var<T>& x, int64_t rows, int64_t d, int64_t begin) {
  Var<T> s = tape.make_unmaterialized(Shape{rows, d}, OpKind::SliceCols);
  if (Record<T>* r = tape.record(OpKind::SliceCols, &detail::slice_cols_backward<T>, s, {x.id()}, 0)) r->aux[0] = begin;
  return s;
}

// The pieces of one fused GRU step, each recording its ops in the composed step's order.
template <class T>
struct GruStep {
  Tape<T>& tape;
  const Var<T>& xp;
  int64_t B, d, G;
  size_t bytes;  // one (B, d) block
  T* m;          // h_prev·W + b, (B, 3d)

  // mm = h_prev·W, m = mm + b (neither keeps a value: m's rows live in the buffer).
  Var<T> product(const Var<T>& h_prev, const Var<T>& W, const Var<T>& b) {
    const T* pb = b.data();
    detail::fill_rows(m, B, pb, G);
    detail::recurrent_gemm(tape, h_prev, W, m);  // beta = 1
    Var<T> mm = detail::record_recurrent_product(tape, h_prev, W, false);
    Var<T> mb = tape.make_unmaterialized(Shape{B, G}, OpKind::BiasAdd);
    tape.record(OpKind::BiasAdd, &detail::bias_add_backward<T>, mb, {mm.id(), b.id()}, 0);
    return mb;
  }
  // Gate k (0: r, 1: z) = σ(xp_k + m_k).
  Var<T> gate(const Var<T>& mb, int k) {
    Var<T> sx = slice_record(tape, xp, B, d, k * d);
    Var<T> sm = slice_record(tape, mb, B, d, k * d);
    Var<T> pre = tape.make_unmaterialized(Shape{B, d}, OpKind::Add);
    tape.record(OpKind::Add, &detail::add_backward<T>, pre, {sx.id(), sm.id()}, 0);
    Var<T> g = tape.make(Shape{B, d}, OpKind::Sigmoid, false);
    T* out = g.data();
    const T* px = xp.data();
    for (int64_t i = 0; i < B; ++i) {
      T* o = out + i * d;
      for (int64_t j = 0; j < d; ++j) o[j] = px[i * G + k * d + j] + m[i * G + k * d + j];
      detail::sigmoid_forward(o, o, d);  // elementwise: in place is safe
    }
    tape.record(OpKind::Sigmoid, &detail::sigmoid_backward<T>, g, {pre.id()}, bytes);
    return g;
  }
  // n = tanh(xp_n + r ⊙ m_n); m_n keeps its value (the mul's backward reads it).
  Var<T> candidate(const Var<T>& mb, const Var<T>& r) {
    Var<T> sxn = slice_record(tape, xp, B, d, 2 * d);
    Var<T> smn = tape.make(Shape{B, d}, OpKind::SliceCols, false);
    T* pmn = smn.data();
    for (int64_t i = 0; i < B; ++i) std::memcpy(pmn + i * d, m + i * G + 2 * d, static_cast<size_t>(d) * sizeof(T));
    if (Record<T>* rec = tape.record(OpKind::SliceCols, &detail::slice_cols_backward<T>, smn, {mb.id()}, 0))
      rec->aux[0] = 2 * d;
    Var<T> rm = tape.make_unmaterialized(Shape{B, d}, OpKind::Mul);
    tape.record(OpKind::Mul, &detail::mul_backward<T>, rm, {r.id(), smn.id()}, 2 * bytes);
    Var<T> an = tape.make_unmaterialized(Shape{B, d}, OpKind::Add);
    tape.record(OpKind::Add, &detail::add_backward<T>, an, {sxn.id(), rm.id()}, 0);
    Var<T> nv = tape.make(Shape{B, d}, OpKind::Tanh, false);
    T* pn = nv.data();
    const T* pr = r.data();
    const T* px = xp.data();
    for (int64_t i = 0; i < B; ++i) {
      T* pre = m + i * G + 2 * d;  // m_n's columns are free now (smn holds their copy)
      for (int64_t j = 0; j < d; ++j) {
        const T prod = pr[i * d + j] * pmn[i * d + j];
        pre[j] = px[i * G + 2 * d + j] + prod;
      }
      detail::tanh_forward(pre, pn + i * d, d);
    }
    tape.record(OpKind::Tanh, &detail::tanh_backward<T>, nv, {an.id()}, bytes);
    return nv;
  }
  // h = n + z ⊙ (h_prev - n); h_prev - n keeps its value, z ⊙ · does not.
  Var<T> update(const Var<T>& h_prev, const Var<T>& nv, const Var<T>& z) {
    const int64_t n = B * d;
    Var<T> hd = tape.make(Shape{B, d}, OpKind::Sub, false);
    T* phd = hd.data();
    const T* ph0 = h_prev.data();
    const T* pn = nv.data();
    for (int64_t i = 0; i < n; ++i) phd[i] = ph0[i] - pn[i];
    tape.record(OpKind::Sub, &detail::sub_backward<T>, hd, {h_prev.id(), nv.id()}, 0);
    Var<T> zh = tape.make_unmaterialized(Shape{B, d}, OpKind::Mul);
    tape.record(OpKind::Mul, &detail::mul_backward<T>, zh, {z.id(), hd.id()}, 2 * bytes);
    Var<T> h = tape.make(Shape{B, d}, OpKind::Add, false);
    T* ph = h.data();
    const T* pz = z.data();
    for (int64_t i = 0; i < n; ++i) {
      const T prod = pz[i] * phd[i];
      ph[i] = pn[i] + prod;
    }
    tape.record(OpKind::Add, &detail::add_backward<T>, h, {nv.id(), zh.id()}, 0);
    return h;
  }
};

}  // namespace

template <class T>
Var<T> gru_cell(const Var<T>& xp, const Var<T>& h_prev, const Var<T>& W, const Var<T>& b, T* m_buffer) {
  Tape<T>& tape = xp.tape();
  for (const Var<T>* v : {&xp, &h_prev, &W, &b}) tape.check(*v, "gru_cell");
  const Shape sx = xp.shape(), sh = h_prev.shape(), sw = W.shape(), sb = b.shape();
  if (sx.rank != 2 || sh.rank != 2 || sw.rank != 2 || sh[0] != sx[0] || sw[0] != sh[1] || sw[1] != sx[1] ||
      sx[1] != 3 * sh[1] || sb != Shape{sx[1]})
    throw ShapeError("gru_cell: expected xp (B, 3d), h_prev (B, d), W (d, 3d), b (3d); got xp " + sx.str() +
                     ", h_prev " + sh.str() + ", W " + sw.str() + ", b " + sb.str());
  const int64_t B = sx[0], d = sh[1], G = 3 * d;
  T* m = m_buffer ? m_buffer : tape.scratch(static_cast<size_t>(B * G));
  GruStep<T> s{tape, xp, B, d, G, static_cast<size_t>(B * d) * sizeof(T), m};
  Var<T> mb = s.product(h_prev, W, b);
  Var<T> r = s.gate(mb, 0);
  Var<T> z = s.gate(mb, 1);
  return s.update(h_prev, s.candidate(mb, r), z);
}

template Var<float> gru_cell(const Var<float>&, const Var<float>&, const Var<float>&, const Var<float>&, float*);
template Var<double> gru_cell(const Var<double>&, const Var<double>&, const Var<double>&, const Var<double>&, double*);

}  // namespace reel
