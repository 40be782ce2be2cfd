// Shape ops: timestep select, row slices and gathers, stacking, concatenation, time reversal,
// embedding, detach.
#include <algorithm>
#include <cstring>
#include <string>

#include "framework/ops.h"

namespace reel {
namespace {

// y(B,F) = x[:, t, :]: dx[:, t, :] += dy.  aux[0] = t
template <class T>
void select_time_backward(Tape<T>& tape, const Record<T>& r) {
  const Shape& s = tape.node(r.in[0]).shape;
  T* dx = tape.grad(r.in[0]);
  const T* dy = tape.node(r.out).grad;
  const int64_t B = s[0], Tn = s[1], F = s[2], t = r.aux[0];
  for (int64_t b = 0; b < B; ++b) {
    T* d = dx + (b * Tn + t) * F;
    const T* g = dy + b * F;
    for (int64_t f = 0; f < F; ++f) d[f] += g[f];
  }
}

// y(T,B,F)[t, b] = x(B,T,F)[b, t]: dx[b, t] += dy[t, b]
template <class T>
void time_major_backward(Tape<T>& tape, const Record<T>& r) {
  const Shape& s = tape.node(r.in[0]).shape;
  T* dx = tape.grad(r.in[0]);
  const T* dy = tape.node(r.out).grad;
  const int64_t B = s[0], Tn = s[1], F = s[2];
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < Tn; ++t)
      for (int64_t f = 0; f < F; ++f) dx[(b * Tn + t) * F + f] += dy[(t * B + b) * F + f];
}

// y = x[begin:end] and reshape: y's value and gradient alias x's (Tape::make_alias), so
// dx[begin:end] += dy has already happened in place. Nothing left to do.
template <class T>
void alias_backward(Tape<T>&, const Record<T>&) {}

// y[i] = x[rows[i]]: dx[rows[i]] += dy[i].  extra = rows, aux[0] = row size
template <class T>
void gather_rows_backward(Tape<T>& tape, const Record<T>& r) {
  T* dx = tape.grad(r.in[0]);
  const Node<T>& y = tape.node(r.out);
  const auto* rows = static_cast<const int64_t*>(r.extra);
  const int64_t n = y.shape[0], w = r.aux[0];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) dx[rows[i] * w + j] += y.grad[i * w + j];
}

// y(B,T,F)[:, t, :] = x_t: dx_t += dy[:, t, :]
template <class T>
void stack_time_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const int64_t B = y.shape[0], Tn = y.shape[1], F = y.shape[2];
  for (int64_t t = 0; t < Tn; ++t) {
    T* dx = tape.grad(r.in[t]);
    if (!dx) continue;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t f = 0; f < F; ++f) dx[b * F + f] += y.grad[(b * Tn + t) * F + f];
  }
}

// y = [x_0 | x_1 | ...] along the last axis: dx_k += dy[..., columns of x_k]
template <class T>
void concat_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const int64_t rows = y.shape.rows(), w = y.shape.last();
  int64_t col = 0;
  for (int32_t k = 0; k < r.n_in; ++k) {
    const int64_t wk = tape.node(r.in[k]).shape.last();
    if (T* dx = tape.grad(r.in[k]))
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < wk; ++j) dx[i * wk + j] += y.grad[i * w + col + j];
    col += wk;
  }
}

// y[i, :] = W[ids[i], :]: dW[ids[i], :] += dy[i, :] (repeated ids accumulate). extra = ids
template <class T>
void embedding_backward(Tape<T>& tape, const Record<T>& r) {
  T* dw = tape.grad(r.in[0]);
  const Node<T>& y = tape.node(r.out);
  const auto* ids = static_cast<const int64_t*>(r.extra);
  const int64_t n = y.shape.rows(), e = y.shape.last();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < e; ++j) dw[ids[i] * e + j] += y.grad[i * e + j];
}

// y = [x_0; x_1; ...] along the first axis: dx_k += dy[rows of x_k].
template <class T>
void concat_rows_backward(Tape<T>& tape, const Record<T>& r) {
  const T* dy = tape.node(r.out).grad;
  for (int32_t k = 0; k < r.n_in; ++k) {
    const int64_t n = tape.node(r.in[k]).shape.size();
    bool fresh;
    if (T* dx = tape.grad_for_write(r.in[k], &fresh)) {
      if (fresh) std::memcpy(dx, dy, static_cast<size_t>(n) * sizeof(T));
      else for (int64_t i = 0; i < n; ++i) dx[i] += dy[i];
    }
    dy += n;
  }
}

// y[b, t] = x[b, L_b-1-t] for t < L_b, y[b, t] = x[b, t] past it: a permutation of each sequence's
// steps, its own inverse, so dx[b, L_b-1-t] += dy[b, t] (and dx[b, t] += dy[b, t] in the padding).
// extra = lengths (B values) or null (every sequence full, L_b = T).
template <class T>
void reverse_time_backward(Tape<T>& tape, const Record<T>& r) {
  bool fresh;
  T* dx = tape.grad_for_write(r.in[0], &fresh);
  if (!dx) return;
  const Node<T>& y = tape.node(r.out);
  const int64_t B = y.shape[0], Tn = y.shape[1], F = y.shape[2];
  const auto* lengths = static_cast<const int64_t*>(r.extra);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = lengths ? lengths[b] : Tn;
    for (int64_t t = 0; t < Tn; ++t) {
      const int64_t src = t < L ? L - 1 - t : t;
      const T* g = y.grad + (b * Tn + t) * F;
      T* d = dx + (b * Tn + src) * F;
      if (fresh) std::memcpy(d, g, static_cast<size_t>(F) * sizeof(T));
      else for (int64_t f = 0; f < F; ++f) d[f] += g[f];
    }
  }
}

template <class T>
void check_all(const std::vector<Var<T>>& xs, const char* op) {
  if (xs.empty()) throw UsageError(std::string(op) + ": needs at least one input");
  for (const Var<T>& x : xs) xs[0].tape().check(x, op);
}

}  // namespace

template <class T>
Var<T> select_time(const Var<T>& x, int64_t t) {
  Tape<T>& tape = x.tape();
  tape.check(x, "select_time");
  const Shape& s = x.shape();
  if (s.rank != 3) throw ShapeError("select_time: input must be (batch, time, features), got " + s.str());
  if (t < 0 || t >= s[1])
    throw UsageError("select_time: step " + std::to_string(t) + " outside [0, " + std::to_string(s[1]) +
                     ") of input " + s.str());
  const int64_t B = s[0], Tn = s[1], F = s[2];
  Var<T> y = tape.make(Shape{B, F}, OpKind::SelectTime, false);
  const T* in = x.data();
  T* out = y.data();
  for (int64_t b = 0; b < B; ++b) std::memcpy(out + b * F, in + (b * Tn + t) * F, static_cast<size_t>(F) * sizeof(T));
  if (Record<T>* r = tape.record(OpKind::SelectTime, &select_time_backward<T>, y, {x.id()}, 0)) r->aux[0] = t;
  return y;
}

template <class T>
Var<T> time_major(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check(x, "time_major");
  const Shape s = x.shape();
  if (s.rank != 3) throw ShapeError("time_major: input must be (batch, time, features), got " + s.str());
  const int64_t B = s[0], Tn = s[1], F = s[2];
  Var<T> y = tape.make(Shape{Tn, B, F}, OpKind::TimeMajor, false);
  const T* in = x.data();
  T* out = y.data();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < Tn; ++t)
      std::memcpy(out + (t * B + b) * F, in + (b * Tn + t) * F, static_cast<size_t>(F) * sizeof(T));
  tape.record(OpKind::TimeMajor, &time_major_backward<T>, y, {x.id()}, 0);
  return y;
}

template <class T>
Var<T> slice_rows(const Var<T>& x, int64_t begin, int64_t end) {
  Tape<T>& tape = x.tape();
  tape.check(x, "slice_rows");
  Shape s = x.shape();
  if (s.rank < 1 || begin < 0 || end < begin || end > s[0])
    throw UsageError("slice_rows: rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") do not fit input " + s.str());
  const int64_t w = s.size() / (s[0] ? s[0] : 1);
  s.dims[0] = end - begin;
  Var<T> y = tape.make_alias(s, OpKind::SliceRows, x.id(), begin * w);  // contiguous rows: no copy
  if (Record<T>* r = tape.record(OpKind::SliceRows, &alias_backward<T>, y, {x.id()}, 0)) r->aux[0] = begin * w;
  return y;
}

template <class T>
Var<T> gather_rows(const Var<T>& x, const std::vector<int64_t>& rows) {
  Tape<T>& tape = x.tape();
  tape.check(x, "gather_rows");
  Shape s = x.shape();
  if (s.rank < 1) throw ShapeError("gather_rows: input must have a row axis, got " + s.str());
  const int64_t w = s[0] ? s.size() / s[0] : 0;
  int64_t* idx = tape.ints(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= s[0])
      throw UsageError("gather_rows: row " + std::to_string(rows[i]) + " outside [0, " + std::to_string(s[0]) +
                       ") of input " + s.str());
    idx[i] = rows[i];
  }
  s.dims[0] = static_cast<int64_t>(rows.size());
  Var<T> y = tape.make(s, OpKind::GatherRows, false);
  const T* in = x.data();
  T* out = y.data();
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(out + static_cast<int64_t>(i) * w, in + idx[i] * w, static_cast<size_t>(w) * sizeof(T));
  if (Record<T>* r = tape.record(OpKind::GatherRows, &gather_rows_backward<T>, y, {x.id()}, rows.size() * sizeof(int64_t))) {
    r->extra = idx;
    r->aux[0] = w;
  }
  return y;
}

template <class T>
Var<T> stack_time(const std::vector<Var<T>>& steps) {
  check_all(steps, "stack_time");
  Tape<T>& tape = steps[0].tape();
  const Shape s0 = steps[0].shape();
  if (s0.rank != 2) throw ShapeError("stack_time: each step must be (batch, features), got " + s0.str());
  for (const Var<T>& x : steps)
    if (x.shape() != s0) throw_shape("stack_time", "step shapes differ", s0, x.shape());
  const int64_t B = s0[0], F = s0[1], Tn = static_cast<int64_t>(steps.size());
  Var<T> y = tape.make(Shape{B, Tn, F}, OpKind::Stack, false);
  T* out = y.data();
  int32_t* ids = tape.node_ids(steps.size());  // tape storage: no heap allocation per call
  for (int64_t t = 0; t < Tn; ++t) {
    const T* in = steps[static_cast<size_t>(t)].data();
    for (int64_t b = 0; b < B; ++b) std::memcpy(out + (b * Tn + t) * F, in + b * F, static_cast<size_t>(F) * sizeof(T));
    ids[t] = steps[static_cast<size_t>(t)].id();
  }
  tape.record_n(OpKind::Stack, &stack_time_backward<T>, y, ids, static_cast<int32_t>(Tn), 0);
  return y;
}

template <class T>
Var<T> concat(const std::vector<Var<T>>& xs) {
  check_all(xs, "concat");
  Tape<T>& tape = xs[0].tape();
  Shape s = xs[0].shape();
  if (s.rank < 1) throw ShapeError("concat: inputs need an axis, got " + s.str());
  const int64_t rows = s.rows();
  int64_t w = 0;
  int32_t* ids = tape.node_ids(xs.size());
  int32_t n_ids = 0;
  for (const Var<T>& x : xs) {
    Shape a = x.shape(), b = s;
    a.dims[static_cast<size_t>(a.rank - 1)] = 0;
    b.dims[static_cast<size_t>(b.rank - 1)] = 0;
    if (a != b) throw_shape("concat", "shapes differ outside the last axis", s, x.shape());
    w += x.shape().last();
    ids[n_ids++] = x.id();
  }
  s.dims[static_cast<size_t>(s.rank - 1)] = w;
  Var<T> y = tape.make(s, OpKind::Concat, false);
  T* out = y.data();
  int64_t col = 0;
  for (const Var<T>& x : xs) {
    const int64_t wk = x.shape().last();
    const T* in = x.data();
    for (int64_t i = 0; i < rows; ++i) std::memcpy(out + i * w + col, in + i * wk, static_cast<size_t>(wk) * sizeof(T));
    col += wk;
  }
  tape.record_n(OpKind::Concat, &concat_backward<T>, y, ids, n_ids, 0);
  return y;
}

template <class T>
Var<T> concat_rows(const std::vector<Var<T>>& xs) {
  check_all(xs, "concat_rows");
  Tape<T>& tape = xs[0].tape();
  Shape s = xs[0].shape();
  if (s.rank < 1) throw ShapeError("concat_rows: inputs need a row axis, got " + s.str());
  int64_t rows = 0;
  int32_t* ids = tape.node_ids(xs.size());
  int32_t n_ids = 0;
  for (const Var<T>& x : xs) {
    Shape a = x.shape(), b = s;
    if (a.rank != b.rank) throw_shape("concat_rows", "ranks differ", s, a);
    a.dims[0] = b.dims[0] = 0;
    if (a != b) throw_shape("concat_rows", "shapes differ outside the first axis", s, x.shape());
    rows += x.shape()[0];
    ids[n_ids++] = x.id();
  }
  s.dims[0] = rows;
  Var<T> y = tape.make(s, OpKind::ConcatRows, false);
  T* out = y.data();
  for (const Var<T>& x : xs) {
    std::memcpy(out, x.data(), static_cast<size_t>(x.size()) * sizeof(T));
    out += x.size();
  }
  tape.record_n(OpKind::ConcatRows, &concat_rows_backward<T>, y, ids, n_ids, 0);
  return y;
}

template <class T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  Tape<T>& tape = x.tape();
  tape.check(x, "reshape");
  if (shape.size() != x.size()) throw_shape("reshape", "element counts differ", x.shape(), shape);
  Var<T> y = tape.make_alias(shape, OpKind::Reshape, x.id(), 0);  // same storage, new shape
  tape.record(OpKind::Reshape, &alias_backward<T>, y, {x.id()}, 0);
  return y;
}

template <class T>
Var<T> reverse_time(const Var<T>& x, const std::vector<int64_t>& lengths) {
  Tape<T>& tape = x.tape();
  tape.check(x, "reverse_time");
  const Shape s = x.shape();
  if (s.rank != 3) throw ShapeError("reverse_time: input must be (batch, time, features), got " + s.str());
  const int64_t B = s[0], Tn = s[1], F = s[2];
  const bool full = lengths.empty();
  if (!full && static_cast<int64_t>(lengths.size()) != B)
    throw ShapeError("reverse_time: " + std::to_string(lengths.size()) + " lengths for input " + s.str() +
                     " (one per sequence expected)");
  for (size_t b = 0; b < lengths.size(); ++b)
    if (lengths[b] < 0 || lengths[b] > Tn)
      throw ShapeError("reverse_time: length " + std::to_string(lengths[b]) + " of sequence " + std::to_string(b) +
                       " outside [0, " + std::to_string(Tn) + "] for input " + s.str());
  Var<T> y = tape.make(s, OpKind::ReverseTime, false);
  const T* in = x.data();
  T* out = y.data();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = full ? Tn : lengths[static_cast<size_t>(b)];
    for (int64_t t = 0; t < Tn; ++t) {
      const int64_t src = t < L ? L - 1 - t : t;
      std::memcpy(out + (b * Tn + t) * F, in + (b * Tn + src) * F, static_cast<size_t>(F) * sizeof(T));
    }
  }
  const size_t saved = full ? 0 : lengths.size() * sizeof(int64_t);
  if (Record<T>* r = tape.record(OpKind::ReverseTime, &reverse_time_backward<T>, y, {x.id()}, saved)) {
    if (!full) {  // the backward's copy, in tape storage
      int64_t* stored = tape.ints(lengths.size());
      std::copy(lengths.begin(), lengths.end(), stored);
      r->extra = stored;
    }
  }
  return y;
}

template <class T>
Var<T> embedding(const Var<T>& weight, const std::vector<int64_t>& ids, const Shape& ids_shape) {
  Tape<T>& tape = weight.tape();
  tape.check(weight, "embedding");
  const Shape& ws = weight.shape();
  if (ws.rank != 2) throw ShapeError("embedding: weight must be (vocab, dim), got " + ws.str());
  if (ids_shape.rank < 1 || ids_shape.rank > 2 || ids_shape.size() != static_cast<int64_t>(ids.size()))
    throw ShapeError("embedding: ids shape " + ids_shape.str() + " must be (N) or (B, T) and hold " +
                     std::to_string(ids.size()) + " ids");
  const int64_t V = ws[0], E = ws[1], n = static_cast<int64_t>(ids.size());
  int64_t* stored = tape.ints(ids.size());
  for (int64_t i = 0; i < n; ++i) {
    if (ids[static_cast<size_t>(i)] < 0 || ids[static_cast<size_t>(i)] >= V)
      throw UsageError("embedding: id " + std::to_string(ids[static_cast<size_t>(i)]) + " at position " +
                       std::to_string(i) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
    stored[i] = ids[static_cast<size_t>(i)];
  }
  Shape out = ids_shape.rank == 1 ? Shape{n, E} : Shape{ids_shape[0], ids_shape[1], E};
  Var<T> y = tape.make(out, OpKind::Embedding, false);
  const T* w = weight.data();
  T* o = y.data();
  for (int64_t i = 0; i < n; ++i) std::memcpy(o + i * E, w + stored[i] * E, static_cast<size_t>(E) * sizeof(T));
  if (Record<T>* r = tape.record(OpKind::Embedding, &embedding_backward<T>, y, {weight.id()}, ids.size() * sizeof(int64_t)))
    r->extra = stored;
  return y;
}

template <class T>
Var<T> detach(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check(x, "detach");
  return tape.make_view(x.shape(), OpKind::Detach, x.data());  // same value, no record: no gradient
}

#define REEL_INSTANTIATE(T)                                                           \
  template Var<T> select_time(const Var<T>&, int64_t);                                \
  template Var<T> time_major(const Var<T>&);                                          \
  template Var<T> slice_rows(const Var<T>&, int64_t, int64_t);                        \
  template Var<T> gather_rows(const Var<T>&, const std::vector<int64_t>&);            \
  template Var<T> stack_time(const std::vector<Var<T>>&);                             \
  template Var<T> concat(const std::vector<Var<T>>&);                                 \
  template Var<T> concat_rows(const std::vector<Var<T>>&);                            \
  template Var<T> reshape(const Var<T>&, const Shape&);                               \
  template Var<T> reverse_time(const Var<T>&, const std::vector<int64_t>&);           \
  template Var<T> embedding(const Var<T>&, const std::vector<int64_t>&, const Shape&); \
  template Var<T> detach(const Var<T>&);
REEL_INSTANTIATE(float)
REEL_INSTANTIATE(double)
#undef REEL_INSTANTIATE

}  // namespace reel
