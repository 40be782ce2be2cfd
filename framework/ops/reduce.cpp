// Reductions to a scalar, and log-softmax and softmax over the last axis.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "framework/ops.h"

namespace reel {
namespace {

// y = s·Σ x (s = 1 for sum, 1/n for mean): dx += s·dy
template <class T>
void sum_backward(Tape<T>& tape, const Record<T>& r) {
  const T g = tape.node(r.out).grad[0];
  const int64_t n = tape.node(r.in[0]).shape.size();
  const T s = r.kind == OpKind::Mean ? T(1) / static_cast<T>(n) : T(1);
  if (T* dx = tape.grad(r.in[0]))
    for (int64_t i = 0; i < n; ++i) dx[i] += s * g;
}

template <class T>
Var<T> reduce(const char* op, OpKind kind, const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check(x, op);
  const int64_t n = x.size();
  if (n == 0) throw ShapeError(std::string(op) + ": empty input " + x.shape().str());
  Var<T> y = tape.make(Shape{}, kind, false);
  const T* in = x.data();
  T acc = T(0);
  for (int64_t i = 0; i < n; ++i) acc += in[i];
  y.data()[0] = kind == OpKind::Mean ? acc / static_cast<T>(n) : acc;
  tape.record(kind, &sum_backward<T>, y, {x.id()}, 0);
  return y;
}

// y = x - logΣexp(x) per row: dx += dy - softmax(x)·Σ_j dy_j
template <class T>
void log_softmax_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const int64_t rows = y.shape.rows(), c = y.shape.last();
  T* dx = tape.grad(r.in[0]);
  if (!dx) return;
  for (int64_t i = 0; i < rows; ++i) {
    const T* gy = y.grad + i * c;
    const T* ly = y.value + i * c;
    T s = T(0);
    for (int64_t j = 0; j < c; ++j) s += gy[j];
    for (int64_t j = 0; j < c; ++j) dx[i * c + j] += gy[j] - std::exp(ly[j]) * s;
  }
}

// y = softmax(x) per row (over the kept entries): dx_j += y_j·(dy_j - Σ_k y_k·dy_k). With a mask
// (extra: x's element count of 0/1), masked-out entries are left untouched: no gradient at all,
// not even a 0·dy that would turn a non-finite dy into NaN. y_j = 0 there, so the sum skips them.
template <class T>
void softmax_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const int64_t rows = y.shape.rows(), c = y.shape.last();
  bool fresh;
  T* dx = tape.grad_for_write(r.in[0], &fresh);
  if (!dx) return;
  const T* mask = static_cast<const T*>(r.extra);
  for (int64_t i = 0; i < rows; ++i) {
    const T* gy = y.grad + i * c;
    const T* py = y.value + i * c;
    const T* mi = mask ? mask + i * c : nullptr;
    T* d = dx + i * c;
    T s = T(0);
    for (int64_t j = 0; j < c; ++j)
      if (!mi || mi[j] != T(0)) s += py[j] * gy[j];
    for (int64_t j = 0; j < c; ++j) {
      if (mi && mi[j] == T(0)) {
        if (fresh) d[j] = T(0);
        continue;
      }
      const T v = py[j] * (gy[j] - s);
      d[j] = fresh ? v : d[j] + v;
    }
  }
}

}  // namespace

template <class T>
Var<T> sum(const Var<T>& x) {
  return reduce("sum", OpKind::Sum, x);
}
template <class T>
Var<T> mean(const Var<T>& x) {
  return reduce("mean", OpKind::Mean, x);
}

template <class T>
Var<T> log_softmax(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check(x, "log_softmax");
  const Shape& s = x.shape();
  if (s.rank < 1 || s.last() == 0) throw ShapeError("log_softmax: needs a non-empty last axis, got " + s.str());
  Var<T> y = tape.make(s, OpKind::LogSoftmax, false);
  const int64_t rows = s.rows(), c = s.last();
  const T* in = x.data();
  T* out = y.data();
  for (int64_t i = 0; i < rows; ++i) {
    const T* xi = in + i * c;
    // y_j = (x_j - mx) - log1p(Σ_{j≠k} exp(x_j - mx)), k the max's index: as in cross_entropy,
    // x_j - (mx + log z) would round the small log z to the ulp of mx (and log(1 + s) lose s).
    int64_t k = 0;
    for (int64_t j = 1; j < c; ++j) k = xi[j] > xi[k] ? j : k;
    const T mx = xi[k];
    T rest = T(0);
    for (int64_t j = 0; j < c; ++j)
      if (j != k) rest += std::exp(xi[j] - mx);
    const T log_z = std::log1p(rest);
    for (int64_t j = 0; j < c; ++j) out[i * c + j] = (xi[j] - mx) - log_z;
  }
  tape.record(OpKind::LogSoftmax, &log_softmax_backward<T>, y, {x.id()},
              static_cast<size_t>(s.size()) * sizeof(T));
  return y;
}

template <class T>
Var<T> softmax(const Var<T>& x, const std::vector<T>& mask) {
  Tape<T>& tape = x.tape();
  tape.check(x, "softmax");
  const Shape& s = x.shape();
  if (s.rank < 1 || s.last() == 0) throw ShapeError("softmax: needs a non-empty last axis, got " + s.str());
  const int64_t rows = s.rows(), c = s.last(), n = s.size();
  const bool masked = !mask.empty();
  if (masked && static_cast<int64_t>(mask.size()) != n)
    throw ShapeError("softmax: mask of " + std::to_string(mask.size()) + " values for x " + s.str() + " (" +
                     std::to_string(n) + " expected, one per element)");
  // Checked before anything is made: a bad mask leaves the tape as it was.
  if (masked)
    for (int64_t i = 0; i < rows; ++i) {
      bool any = false;
      for (int64_t j = 0; j < c; ++j) {
        const T m = mask[static_cast<size_t>(i * c + j)];
        if (m != T(0) && m != T(1))
          throw UsageError("softmax: mask values must be 0 or 1, got " + std::to_string(m) + " at row " +
                           std::to_string(i) + ", column " + std::to_string(j));
        any = any || m != T(0);
      }
      if (!any)
        throw UsageError("softmax: row " + std::to_string(i) + " of x " + s.str() +
                         " has every entry masked out (no distribution to normalise)");
    }
  Var<T> y = tape.make(s, OpKind::Softmax, false);
  const T* in = x.data();
  const T* mk = masked ? mask.data() : nullptr;
  T* out = y.data();
  for (int64_t i = 0; i < rows; ++i) {
    const T* xi = in + i * c;
    const T* mi = mk ? mk + i * c : nullptr;
    T* yi = out + i * c;
    // y_j = exp(x_j - mx) / Σ_k exp(x_k - mx), mx the largest kept entry: no exp overflows, the
    // largest term is 1, so the sum is in [1, c]. Masked entries are never read.
    T mx = T(0);
    bool first = true;
    for (int64_t j = 0; j < c; ++j)
      if (!mi || mi[j] != T(0)) {
        mx = first || xi[j] > mx ? xi[j] : mx;
        first = false;
      }
    T z = T(0);
    for (int64_t j = 0; j < c; ++j) {
      const T e = !mi || mi[j] != T(0) ? std::exp(xi[j] - mx) : T(0);
      yi[j] = e;
      z += e;
    }
    const T inv = T(1) / z;
    for (int64_t j = 0; j < c; ++j) yi[j] *= inv;
  }
  const size_t saved = static_cast<size_t>(masked ? 2 * n : n) * sizeof(T);
  if (Record<T>* r = tape.record(OpKind::Softmax, &softmax_backward<T>, y, {x.id()}, saved)) {
    if (masked) {  // the backward's copy, in tape storage (the caller's vector may go)
      T* copy = tape.scratch(static_cast<size_t>(n));
      std::copy_n(mask.data(), n, copy);
      r->extra = copy;
    }
  }
  return y;
}

template Var<float> sum(const Var<float>&);
template Var<double> sum(const Var<double>&);
template Var<float> mean(const Var<float>&);
template Var<double> mean(const Var<double>&);
template Var<float> log_softmax(const Var<float>&);
template Var<double> log_softmax(const Var<double>&);
template Var<float> softmax(const Var<float>&, const std::vector<float>&);
template Var<double> softmax(const Var<double>&, const std::vector<double>&);

}  // namespace reel
