// Reductions to a scalar and log-softmax over the last axis.
#include <cmath>

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

template Var<float> sum(const Var<float>&);
template Var<double> sum(const Var<double>&);
template Var<float> mean(const Var<float>&);
template Var<double> mean(const Var<double>&);
template Var<float> log_softmax(const Var<float>&);
template Var<double> log_softmax(const Var<double>&);

}  // namespace reel
