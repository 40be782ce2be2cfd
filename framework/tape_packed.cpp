// Tape::packed_param: float parameters packed once for many products (blas::PackedB), kept
// across recordings and re-checked against a checksum of their values when the epoch moves on.
#include <cstdint>
#include <type_traits>

#include "framework/blas_packed.h"
#include "framework/tape.h"

namespace reel {

namespace {
// A position-weighted checksum of a parameter's bits (Σ w_i, and Σ of the 32-bit products
// mix(w_i)·(2i+1), both in 64 bits; mix spreads the high bits down so that sign flips do not
// cancel): what tells a packed copy from values changed since (an optimizer step changes every
// value), without keeping a second copy of the weights. One pass, 32-bit multiplies so that it
// vectorises on AVX2 and AVX-512F.
__attribute__((target_clones("avx512f", "avx2", "default"))) uint64_t checksum_words(const uint32_t* w, size_t n) {
  uint64_t s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; ++i) {
    s1 += w[i];
    const uint32_t m = (w[i] ^ (w[i] >> 15)) * 0x2C1B3C6Du;
    s2 += static_cast<uint32_t>((m ^ (m >> 12)) * static_cast<uint32_t>(2 * i + 1));
  }
  return s1 ^ (s2 * 0x9E3779B97F4A7C15ull);
}
uint64_t values_checksum(const float* v, size_t n) { return checksum_words(reinterpret_cast<const uint32_t*>(v), n); }
}  // namespace

template <class T>
const blas::PackedB* Tape<T>::packed_param(int32_t id, bool transposed) {
  if constexpr (!std::is_same_v<T, float>) {
    (void)id, (void)transposed;
    return nullptr;
  } else {
    const Node<T>& n = nodes_[static_cast<size_t>(id)];
    if (!n.is_param || n.shape.rank != 2 || !n.value) return nullptr;
    const int64_t r = n.shape[0], c = n.shape[1];
    const int64_t k = transposed ? c : r, cols = transposed ? r : c;
    PackedEntry* e = nullptr;
    for (PackedEntry& x : packed_)
      if (x.source == n.value && x.transposed == transposed) e = &x;
    if (!e) {
      packed_.emplace_back();
      e = &packed_.back();
      e->source = n.value;
      e->transposed = transposed;
      e->packed = std::make_unique<blas::PackedB>();
    }
    // Within an epoch the values are taken as unchanged; the layout (shape, mode, threads) is
    // checked on every call.
    const bool layout = e->packed->holds(transposed, k, cols, n.value, c);
    if (e->epoch != pack_epoch_ || !layout) {
      const size_t elems = static_cast<size_t>(r * c);
      const bool same = layout && e->packed->packed() && e->checksum == values_checksum(n.value, elems);
      if (!same) {
        e->packed->pack(transposed, k, cols, n.value, c);
        e->checksum = e->packed->packed() ? values_checksum(n.value, elems) : 0;
      }
      e->epoch = pack_epoch_;
    }
    return e->packed->packed() ? e->packed.get() : nullptr;
  }
}

template const blas::PackedB* Tape<float>::packed_param(int32_t, bool);
template const blas::PackedB* Tape<double>::packed_param(int32_t, bool);

}  // namespace reel
