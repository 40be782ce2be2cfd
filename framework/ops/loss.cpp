// Losses: softmax cross-entropy from logits (masked mean) and mean squared error.
#include <cmath>
#include <cstring>
#include <string>

#include "framework/ops.h"

namespace reel {
namespace {

// loss = Σ_i m_i·(lse_i - x[i, t_i]) / Σ_i m_i. Saved: softmax probabilities p (in extra),
// targets in aux[0] (pointer), mask in aux[1] (pointer or 0), 1/Σm in aux[2] (bits).
// dx[i, :] += dy · m_i/Σm · (p_i - onehot(t_i))
template <class T>
void cross_entropy_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& x = tape.node(r.in[0]);
  T* dx = tape.grad(r.in[0]);
  if (!dx) return;
  const T g = tape.node(r.out).grad[0];
  const int64_t rows = x.shape.rows(), c = x.shape.last();
  const T* p = static_cast<const T*>(r.extra);
  const auto* targets = reinterpret_cast<const int64_t*>(r.aux[0]);
  const auto* mask = reinterpret_cast<const T*>(r.aux[1]);
  T inv;
  std::memcpy(&inv, &r.aux[2], sizeof(T));
  for (int64_t i = 0; i < rows; ++i) {
    const T w = g * inv * (mask ? mask[i] : T(1));
    if (w == T(0)) continue;
    for (int64_t j = 0; j < c; ++j) dx[i * c + j] += w * p[i * c + j];
    dx[i * c + targets[i]] -= w;
  }
}

// loss = Σ (a - b)² / n: da += 2(a - b)/n·dy, db -= the same
template <class T>
void mse_backward(Tape<T>& tape, const Record<T>& r) {
  const T* a = tape.value(r.in[0]);
  const T* b = tape.value(r.in[1]);
  const int64_t n = tape.node(r.in[0]).shape.size();
  const T s = T(2) * tape.node(r.out).grad[0] / static_cast<T>(n);
  if (T* da = tape.grad(r.in[0]))
    for (int64_t i = 0; i < n; ++i) da[i] += s * (a[i] - b[i]);
  if (T* db = tape.grad(r.in[1]))
    for (int64_t i = 0; i < n; ++i) db[i] -= s * (a[i] - b[i]);
}

}  // namespace

template <class T>
Var<T> cross_entropy(const Var<T>& logits, const int64_t* targets, const T* mask) {
  Tape<T>& tape = logits.tape();
  tape.check(logits, "cross_entropy");
  const Shape& s = logits.shape();
  if (s.rank < 2) throw ShapeError("cross_entropy: logits must be (N, C) or (B, T, C), got " + s.str());
  const int64_t rows = s.rows(), c = s.last();
  // Copy targets and mask to tape storage: the record must not point into the caller's memory.
  int64_t* tg = tape.ints(static_cast<size_t>(rows));
  T* mk = mask ? tape.scratch(static_cast<size_t>(rows)) : nullptr;
  T count = T(0);
  for (int64_t i = 0; i < rows; ++i) {
    const T m = mask ? mask[i] : T(1);
    if (mask) mk[i] = m;
    if (m != T(0) && (targets[i] < 0 || targets[i] >= c))
      throw UsageError("cross_entropy: target " + std::to_string(targets[i]) + " at row " +
                       std::to_string(i) + " is outside [0, " + std::to_string(c) + ")");
    tg[i] = m != T(0) ? targets[i] : 0;
    count += m;
  }
  if (count == T(0)) throw UsageError("cross_entropy: the mask selects no row (of " + std::to_string(rows) + ")");
  T* p = tape.scratch(static_cast<size_t>(rows * c));
  const T* x = logits.data();
  T total = T(0);
  for (int64_t i = 0; i < rows; ++i) {
    const T* xi = x + i * c;
    T* pi = p + i * c;
    // lse - x_t = (mx - x_t) + log1p(s), s = Σ_{j≠k} exp(x_j - mx) for the max's index k: the
    // large terms cancel exactly first, and log1p keeps the digits log(1 + s) rounds away when
    // the row is confident (logits [30, 0], target 0: 9.3576e-14, where mx + log z - x_t gave
    // 9.237e-14 and PyTorch 9.348e-14).
    int64_t k = 0;
    for (int64_t j = 1; j < c; ++j) k = xi[j] > xi[k] ? j : k;
    const T mx = xi[k];
    T rest = T(0);
    for (int64_t j = 0; j < c; ++j)
      if (j != k) rest += (pi[j] = std::exp(xi[j] - mx));
    pi[k] = T(1);
    const T z = T(1) + rest;
    for (int64_t j = 0; j < c; ++j) pi[j] /= z;
    const T m = mask ? mk[i] : T(1);
    if (m != T(0)) total += m * ((mx - xi[tg[i]]) + std::log1p(rest));
  }
  Var<T> y = tape.make(Shape{}, OpKind::CrossEntropy, false);
  const T inv = T(1) / count;
  y.data()[0] = total * inv;
  size_t saved = static_cast<size_t>(rows * c + (mask ? rows : 0)) * sizeof(T) +
                 static_cast<size_t>(rows) * sizeof(int64_t);
  if (Record<T>* r = tape.record(OpKind::CrossEntropy, &cross_entropy_backward<T>, y, {logits.id()}, saved)) {
    r->extra = p;
    r->aux[0] = reinterpret_cast<int64_t>(tg);
    r->aux[1] = reinterpret_cast<int64_t>(mk);
    std::memcpy(&r->aux[2], &inv, sizeof(T));
  }
  return y;
}

template <class T>
Var<T> cross_entropy(const Var<T>& logits, const std::vector<int64_t>& targets, const std::vector<T>& mask) {
  const int64_t rows = logits.shape().rank >= 2 ? logits.shape().rows() : -1;
  if (static_cast<int64_t>(targets.size()) != rows)
    throw ShapeError("cross_entropy: " + std::to_string(targets.size()) + " targets for logits " +
                     logits.shape().str() + " (one per row expected)");
  if (!mask.empty() && static_cast<int64_t>(mask.size()) != rows)
    throw ShapeError("cross_entropy: mask of " + std::to_string(mask.size()) + " values for logits " +
                     logits.shape().str() + " (one per row expected)");
  return cross_entropy(logits, targets.data(), mask.empty() ? nullptr : mask.data());
}

template <class T>
Var<T> mse(const Var<T>& a, const Var<T>& b) {
  Tape<T>& tape = a.tape();
  tape.check(a, "mse");
  tape.check(b, "mse");
  if (a.shape() != b.shape()) throw_shape("mse", "operand shapes differ", a.shape(), b.shape());
  const int64_t n = a.size();
  if (n == 0) throw ShapeError("mse: empty operands " + a.shape().str());
  const T* pa = a.data();
  const T* pb = b.data();
  T acc = T(0);
  for (int64_t i = 0; i < n; ++i) acc += (pa[i] - pb[i]) * (pa[i] - pb[i]);
  Var<T> y = tape.make(Shape{}, OpKind::MSE, false);
  y.data()[0] = acc / static_cast<T>(n);
  tape.record(OpKind::MSE, &mse_backward<T>, y, {a.id(), b.id()}, static_cast<size_t>(2 * n) * sizeof(T));
  return y;
}

template Var<float> cross_entropy(const Var<float>&, const int64_t*, const float*);
template Var<double> cross_entropy(const Var<double>&, const int64_t*, const double*);
template Var<float> cross_entropy(const Var<float>&, const std::vector<int64_t>&, const std::vector<float>&);
template Var<double> cross_entropy(const Var<double>&, const std::vector<int64_t>&, const std::vector<double>&);
template Var<float> mse(const Var<float>&, const Var<float>&);
template Var<double> mse(const Var<double>&, const Var<double>&);

}  // namespace reel
