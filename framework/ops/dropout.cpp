// Inverted dropout: forward and backward side by side.
#include <cstring>
#include <string>

#include "framework/ops.h"

namespace reel {
namespace {

// y = x ⊙ m / (1 - p), m the keep mask: dx += dy ⊙ m / (1 - p). The mask is kept as bits (one
// int64 word per 64 elements, in extra); the scale 1/(1-p) in aux[0] (bits of a T).
template <class T>
void dropout_backward(Tape<T>& tape, const Record<T>& r) {
  bool fresh;
  T* dx = tape.grad_for_write(r.in[0], &fresh);
  if (!dx) return;
  const Node<T>& y = tape.node(r.out);
  const int64_t n = y.shape.size();
  const auto* bits = static_cast<const uint64_t*>(r.extra);
  T scale;
  std::memcpy(&scale, &r.aux[0], sizeof(T));
  const T* g = y.grad;
  for (int64_t i = 0; i < n; ++i) {
    const T d = (bits[i >> 6] >> (i & 63)) & 1u ? g[i] * scale : T(0);
    dx[i] = fresh ? d : dx[i] + d;
  }
}

}  // namespace

template <class T>
Var<T> dropout(const Var<T>& x, double p, Rng& rng, bool training) {
  Tape<T>& tape = x.tape();
  tape.check(x, "dropout");
  if (!(p >= 0.0 && p < 1.0))  // also NaN
    throw UsageError("dropout: p must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0.0) return x;  // identity: the same node, nothing drawn or recorded
  const int64_t n = x.size();
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  // The mask as bits in tape storage (n/8 bytes), what the backward reads: only when the op will
  // be recorded (the condition Tape::record applies), so inference keeps nothing but y.
  const bool keep_mask = tape.grad_enabled() && x.requires_grad();
  const size_t words = keep_mask ? static_cast<size_t>((n + 63) / 64) : 0;
  uint64_t* bits = keep_mask ? reinterpret_cast<uint64_t*>(tape.ints(words)) : nullptr;
  if (bits) std::memset(bits, 0, words * sizeof(uint64_t));
  Var<T> y = tape.make(x.shape(), OpKind::Dropout, false);
  const T* in = x.data();
  T* out = y.data();
  for (int64_t i = 0; i < n; ++i) {  // one uniform per element, row-major
    const bool keep = rng.uniform() >= p;
    out[i] = keep ? in[i] * scale : T(0);
    if (keep && bits) bits[i >> 6] |= uint64_t{1} << (i & 63);
  }
  if (Record<T>* r = tape.record(OpKind::Dropout, &dropout_backward<T>, y, {x.id()}, words * sizeof(uint64_t))) {
    r->extra = bits;
    static_assert(sizeof(T) <= sizeof(int64_t), "dropout stores its scale in aux");
    std::memcpy(&r->aux[0], &scale, sizeof(T));
  }
  return y;
}

template Var<float> dropout(const Var<float>&, double, Rng&, bool);
template Var<double> dropout(const Var<double>&, double, Rng&, bool);

}  // namespace reel
