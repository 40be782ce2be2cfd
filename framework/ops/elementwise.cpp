// Elementwise ops: forward and backward side by side.
#include <cmath>
#include <cstring>

#include "framework/ops.h"
#include "framework/ops/backward.h"
#include "framework/ops/fast_math.h"

namespace reel {
namespace {

// The float tanh and sigmoid loops, compiled for AVX-512, AVX2 and baseline x86-64; the loader picks the best
// for this CPU (no -march needed).
__attribute__((target_clones("avx512f", "avx2", "default"))) void tanh_loop(const float* __restrict in,
                                                                             float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = detail::tanh_value(in[i]);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void sigmoid_loop(const float* __restrict in,
                                                                                float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = detail::sigmoid_value(in[i]);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void sigmoid_in_place(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = detail::sigmoid_value(x[i]);
}
void tanh_loop(const double* in, double* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}

template <class T>
void check_same(const char* op, const Var<T>& a, const Var<T>& b) {
  a.tape().check(a, op);
  a.tape().check(b, op);
  if (a.shape() != b.shape()) throw_shape(op, "operand shapes differ", a.shape(), b.shape());
}

// dA += s·dY for a same-shape input, if it needs a gradient (dA = s·dY if it has none yet).
template <class T>
void accumulate(Tape<T>& tape, int32_t id, const T* dy, int64_t n, T s) {
  bool fresh;
  T* d = tape.grad_for_write(id, &fresh);
  if (!d) return;
  if (fresh)
    for (int64_t i = 0; i < n; ++i) d[i] = s * dy[i];
  else
    for (int64_t i = 0; i < n; ++i) d[i] += s * dy[i];
}

// dx (+)= dy ⊙ f(y) elementwise: assigns when dx is fresh, accumulates otherwise; when dy's
// buffer is dead, dx takes it over and the assignment runs in place.
template <class T, class F>
void accumulate_unary(Tape<T>& tape, const Record<T>& r, F df) {
  const Node<T>& y = tape.node(r.out);
  const int64_t n = y.shape.size();
  const T* __restrict v = y.value;
  if (tape.move_grad(r.out, r.in[0])) {
    T* __restrict dx = tape.node(r.in[0]).grad;
    for (int64_t i = 0; i < n; ++i) dx[i] = df(dx[i], v[i]);
    return;
  }
  bool fresh;
  T* dx = tape.grad_for_write(r.in[0], &fresh);
  if (!dx) return;
  const T* __restrict g = y.grad;
  if (fresh)
    for (int64_t i = 0; i < n; ++i) dx[i] = df(g[i], v[i]);
  else
    for (int64_t i = 0; i < n; ++i) dx[i] += df(g[i], v[i]);
}

// y = c·a (c stored bitwise in extra-free aux[0])
template <class T>
void scale_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  T c;
  static_assert(sizeof(T) <= sizeof(int64_t), "scale stores c in aux");
  std::memcpy(&c, &r.aux[0], sizeof(T));
  accumulate(tape, r.in[0], y.grad, y.shape.size(), c);
}
// dx (+)= df(dy, x) elementwise, for a backward that needs the input's value (log): as
// accumulate_unary, dx takes dy's buffer over when it is dead.
template <class T, class F>
void accumulate_unary_x(Tape<T>& tape, const Record<T>& r, F df) {
  const int64_t n = tape.node(r.out).shape.size();
  const T* __restrict x = tape.value(r.in[0]);
  if (tape.move_grad(r.out, r.in[0])) {
    T* __restrict dx = tape.node(r.in[0]).grad;
    for (int64_t i = 0; i < n; ++i) dx[i] = df(dx[i], x[i]);
    return;
  }
  bool fresh;
  T* dx = tape.grad_for_write(r.in[0], &fresh);
  if (!dx) return;
  const T* __restrict g = tape.node(r.out).grad;
  if (fresh)
    for (int64_t i = 0; i < n; ++i) dx[i] = df(g[i], x[i]);
  else
    for (int64_t i = 0; i < n; ++i) dx[i] += df(g[i], x[i]);
}

// y = e^x: dx += dy ⊙ y
template <class T>
void exp_backward(Tape<T>& tape, const Record<T>& r) {
  accumulate_unary(tape, r, [](T g, T y) { return g * y; });
}

// y = ln x: dx += dy / x
template <class T>
void log_backward(Tape<T>& tape, const Record<T>& r) {
  accumulate_unary_x(tape, r, [](T g, T x) { return g / x; });
}

// y = 1/x: dx += -dy ⊙ y²
template <class T>
void reciprocal_backward(Tape<T>& tape, const Record<T>& r) {
  accumulate_unary(tape, r, [](T g, T y) { return -g * y * y; });
}

// y = a / b: da += dy / b, db += -dy ⊙ y / b (= -dy·a/b²)
template <class T>
void div_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const T* b = tape.value(r.in[1]);
  const int64_t n = y.shape.size();
  bool fresh;
  if (T* da = tape.grad_for_write(r.in[0], &fresh)) {
    if (fresh)
      for (int64_t i = 0; i < n; ++i) da[i] = y.grad[i] / b[i];
    else
      for (int64_t i = 0; i < n; ++i) da[i] += y.grad[i] / b[i];
  }
  if (T* db = tape.grad_for_write(r.in[1], &fresh)) {
    if (fresh)
      for (int64_t i = 0; i < n; ++i) db[i] = -y.grad[i] * y.value[i] / b[i];
    else
      for (int64_t i = 0; i < n; ++i) db[i] -= y.grad[i] * y.value[i] / b[i];
  }
}

template <class T, class F>
Var<T> unary(const char* op, OpKind kind, typename Record<T>::Backward bw, const Var<T>& x, F f) {
  Tape<T>& tape = x.tape();
  tape.check(x, op);
  Var<T> y = tape.make(x.shape(), kind, false);
  const T* in = x.data();
  T* out = y.data();
  const int64_t n = x.size();
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
  tape.record(kind, bw, y, {x.id()}, static_cast<size_t>(n) * sizeof(T));
  return y;
}

template <class T, class F>
Var<T> binary(const char* op, OpKind kind, typename Record<T>::Backward bw, const Var<T>& a,
              const Var<T>& b, size_t saved, F f) {
  check_same(op, a, b);
  Tape<T>& tape = a.tape();
  Var<T> y = tape.make(a.shape(), kind, false);
  const T* pa = a.data();
  const T* pb = b.data();
  T* out = y.data();
  const int64_t n = a.size();
  for (int64_t i = 0; i < n; ++i) out[i] = f(pa[i], pb[i]);
  tape.record(kind, bw, y, {a.id(), b.id()}, saved);
  return y;
}

}  // namespace

namespace detail {
// y = a + b: dA (+)= dY and dB (+)= dY; one of them takes dY's buffer over if it can (no copy),
// the other (or both) accumulate.
template <class T>
void add_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const int64_t n = y.shape.size();
  const int first = tape.can_move_grad(r.out, r.in[1]) ? 0 : 1;  // accumulate this one first
  accumulate(tape, r.in[first], y.grad, n, T(1));
  if (!tape.move_grad(r.out, r.in[1 - first])) accumulate(tape, r.in[1 - first], tape.node(r.out).grad, n, T(1));
}

// y[i, j] = x[i, j] + b[j]: dx += dy, db[j] += Σ_i dy[i, j]
template <class T>
void bias_add_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const int64_t rows = y.shape.rows(), d = y.shape.last();
  if (T* db = tape.grad(r.in[1]))
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < d; ++j) db[j] += y.grad[i * d + j];
  if (!tape.move_grad(r.out, r.in[0])) accumulate(tape, r.in[0], y.grad, y.shape.size(), T(1));
}

// y = a - b
template <class T>
void sub_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  accumulate(tape, r.in[0], y.grad, y.shape.size(), T(1));
  accumulate(tape, r.in[1], y.grad, y.shape.size(), T(-1));
}
// y = a ⊙ b: da += dy ⊙ b, db += dy ⊙ a
template <class T>
void mul_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const T* a = tape.value(r.in[0]);
  const T* b = tape.value(r.in[1]);
  const int64_t n = y.shape.size();
  if (T* da = tape.grad(r.in[0]))
    for (int64_t i = 0; i < n; ++i) da[i] += y.grad[i] * b[i];
  if (T* db = tape.grad(r.in[1]))
    for (int64_t i = 0; i < n; ++i) db[i] += y.grad[i] * a[i];
}
// y = σ(x): dx += dy ⊙ y(1 - y)
template <class T>
void sigmoid_backward(Tape<T>& tape, const Record<T>& r) {
  accumulate_unary(tape, r, [](T g, T y) { return g * y * (T(1) - y); });
}

// y = tanh(x): dx += dy ⊙ (1 - y²)
template <class T>
void tanh_backward(Tape<T>& tape, const Record<T>& r) {
  accumulate_unary(tape, r, [](T g, T y) { return g * (T(1) - y * y); });
}

// y = max(0, x): dx += dy where y > 0
template <class T>
void relu_backward(Tape<T>& tape, const Record<T>& r) {
  accumulate_unary(tape, r, [](T g, T y) { return y > T(0) ? g : T(0); });
}

template void add_backward(Tape<float>&, const Record<float>&);
template void add_backward(Tape<double>&, const Record<double>&);
template void bias_add_backward(Tape<float>&, const Record<float>&);
template void bias_add_backward(Tape<double>&, const Record<double>&);
template void tanh_backward(Tape<float>&, const Record<float>&);
template void tanh_backward(Tape<double>&, const Record<double>&);
template void relu_backward(Tape<float>&, const Record<float>&);
template void relu_backward(Tape<double>&, const Record<double>&);
template void sub_backward(Tape<float>&, const Record<float>&);
template void sub_backward(Tape<double>&, const Record<double>&);
template void mul_backward(Tape<float>&, const Record<float>&);
template void mul_backward(Tape<double>&, const Record<double>&);
template void sigmoid_backward(Tape<float>&, const Record<float>&);
template void sigmoid_backward(Tape<double>&, const Record<double>&);
void sigmoid_forward(const float* x, float* y, int64_t n) {
  if (x == y) sigmoid_in_place(y, n);  // the GRU's gates: __restrict would not hold
  else sigmoid_loop(x, y, n);
}
void sigmoid_forward(const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = 1.0 / (1.0 + std::exp(-x[i]));
}
void tanh_forward(const float* x, float* y, int64_t n) { tanh_loop(x, y, n); }
void tanh_forward(const double* x, double* y, int64_t n) { tanh_loop(x, y, n); }
}  // namespace detail

template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  return binary("add", OpKind::Add, &detail::add_backward<T>, a, b, 0, [](T x, T y) { return x + y; });
}
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  return binary("sub", OpKind::Sub, &detail::sub_backward<T>, a, b, 0, [](T x, T y) { return x - y; });
}
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  size_t saved = static_cast<size_t>(2 * a.size()) * sizeof(T);
  return binary("mul", OpKind::Mul, &detail::mul_backward<T>, a, b, saved, [](T x, T y) { return x * y; });
}

template <class T>
Var<T> scale(const Var<T>& a, T c) {
  Tape<T>& tape = a.tape();
  tape.check(a, "scale");
  Var<T> y = tape.make(a.shape(), OpKind::Scale, false);
  const T* in = a.data();
  T* out = y.data();
  for (int64_t i = 0; i < a.size(); ++i) out[i] = c * in[i];
  if (Record<T>* r = tape.record(OpKind::Scale, &scale_backward<T>, y, {a.id()}, 0))
    std::memcpy(&r->aux[0], &c, sizeof(T));
  return y;
}

template <class T>
Var<T> bias_add(const Var<T>& x, const Var<T>& b) {
  Tape<T>& tape = x.tape();
  tape.check(x, "bias_add");
  tape.check(b, "bias_add");
  const Shape& sx = x.shape();
  const Shape& sb = b.shape();
  if (sb.rank != 1 || sx.rank < 1 || sb[0] != sx.last())
    throw_shape("bias_add", "bias must be (features) matching the input's last axis", sx, sb);
  Var<T> y = tape.make(sx, OpKind::BiasAdd, false);
  const int64_t rows = sx.rows(), d = sx.last();
  const T* in = x.data();
  const T* bias = b.data();
  T* out = y.data();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < d; ++j) out[i * d + j] = in[i * d + j] + bias[j];
  tape.record(OpKind::BiasAdd, &detail::bias_add_backward<T>, y, {x.id(), b.id()}, 0);
  return y;
}

template <class T>
Var<T> tanh(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check(x, "tanh");
  Var<T> y = tape.make(x.shape(), OpKind::Tanh, false);
  tanh_loop(x.data(), y.data(), x.size());
  tape.record(OpKind::Tanh, &detail::tanh_backward<T>, y, {x.id()}, static_cast<size_t>(x.size()) * sizeof(T));
  return y;
}
template <class T>
Var<T> relu(const Var<T>& x) {
  return unary("relu", OpKind::Relu, &detail::relu_backward<T>, x, [](T v) { return v > T(0) ? v : T(0); });
}
template <class T>
Var<T> sigmoid(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check(x, "sigmoid");
  Var<T> y = tape.make(x.shape(), OpKind::Sigmoid, false);
  detail::sigmoid_forward(x.data(), y.data(), x.size());
  tape.record(OpKind::Sigmoid, &detail::sigmoid_backward<T>, y, {x.id()}, static_cast<size_t>(x.size()) * sizeof(T));
  return y;
}

template <class T>
Var<T> exp(const Var<T>& x) {
  return unary("exp", OpKind::Exp, &exp_backward<T>, x, [](T v) { return std::exp(v); });
}
template <class T>
Var<T> log(const Var<T>& x) {
  return unary("log", OpKind::Log, &log_backward<T>, x, [](T v) { return std::log(v); });
}
template <class T>
Var<T> reciprocal(const Var<T>& x) {
  return unary("reciprocal", OpKind::Reciprocal, &reciprocal_backward<T>, x, [](T v) { return T(1) / v; });
}
template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  // kept for backward: b and y (a's value is not read)
  size_t saved = static_cast<size_t>(2 * a.size()) * sizeof(T);
  return binary("div", OpKind::Div, &div_backward<T>, a, b, saved, [](T x, T y) { return x / y; });
}

#define REEL_INSTANTIATE(T)                                        \
  template Var<T> add(const Var<T>&, const Var<T>&);               \
  template Var<T> sub(const Var<T>&, const Var<T>&);               \
  template Var<T> mul(const Var<T>&, const Var<T>&);               \
  template Var<T> scale(const Var<T>&, T);                         \
  template Var<T> bias_add(const Var<T>&, const Var<T>&);          \
  template Var<T> tanh(const Var<T>&);                             \
  template Var<T> relu(const Var<T>&);                             \
  template Var<T> sigmoid(const Var<T>&);                          \
  template Var<T> exp(const Var<T>&);                              \
  template Var<T> log(const Var<T>&);                              \
  template Var<T> reciprocal(const Var<T>&);                       \
  template Var<T> div(const Var<T>&, const Var<T>&);
REEL_INSTANTIATE(float)
REEL_INSTANTIATE(double)
#undef REEL_INSTANTIATE

}  // namespace reel
