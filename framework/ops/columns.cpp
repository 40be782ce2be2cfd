// Column slices: a range of the last axis (a cell's gates out of one (batch, 4·hidden) product).
#include <cstring>
#include <string>

#include "framework/ops.h"
#include "framework/ops/backward.h"

namespace reel {
namespace detail {

// y[i, j] = x[i, begin + j]: dx[i, begin + j] += dy[i, j].  aux[0] = begin
template <class T>
void slice_cols_backward(Tape<T>& tape, const Record<T>& r) {
  T* dx = tape.grad(r.in[0]);
  const Node<T>& y = tape.node(r.out);
  const int64_t rows = y.shape.rows(), w = y.shape.last();
  const int64_t wx = tape.node(r.in[0]).shape.last(), begin = r.aux[0];
  for (int64_t i = 0; i < rows; ++i) {
    T* d = dx + i * wx + begin;
    const T* g = y.grad + i * w;
    for (int64_t j = 0; j < w; ++j) d[j] += g[j];
  }
}

template void slice_cols_backward(Tape<float>&, const Record<float>&);
template void slice_cols_backward(Tape<double>&, const Record<double>&);
}  // namespace detail

template <class T>
Var<T> slice_cols(const Var<T>& x, int64_t begin, int64_t end) {
  Tape<T>& tape = x.tape();
  tape.check(x, "slice_cols");
  Shape s = x.shape();
  if (s.rank < 1) throw ShapeError("slice_cols: the input needs an axis, got " + s.str());
  const int64_t wx = s.last();
  if (begin < 0 || end > wx || begin >= end)
    throw ShapeError("slice_cols: columns [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") outside the last axis of " + s.str());
  const int64_t rows = s.rows(), w = end - begin;
  s.dims[static_cast<size_t>(s.rank - 1)] = w;
  Var<T> y = tape.make(s, OpKind::SliceCols, false);
  T* out = y.data();
  const T* in = x.data();
  for (int64_t i = 0; i < rows; ++i) std::memcpy(out + i * w, in + i * wx + begin, static_cast<size_t>(w) * sizeof(T));
  if (Record<T>* r = tape.record(OpKind::SliceCols, &detail::slice_cols_backward<T>, y, {x.id()}, 0)) r->aux[0] = begin;
  return y;
}

template Var<float> slice_cols(const Var<float>&, int64_t, int64_t);
template Var<double> slice_cols(const Var<double>&, int64_t, int64_t);

}  // namespace reel
