#pragma once
/// \file
/// A float GEMM operand packed once for many products: a recurrent weight, used at every step of a
/// sequence (forward h_{t-1}·W, backward dz_t·Wᵀ), is reordered once into oneDNN's blocked layout
/// instead of being re-packed inside every sgemm call. Measured 1 thread on this machine,
/// (32 × d)·(d × d) with beta = 1: sgemm 167-179 → 193 GFLOP/s at d = 512, 124 → 158 at 1024
/// (docs/benchmarks.md).
#include <cstdint>
#include <memory>

namespace reel::blas {

/// op(B) (K × N) packed for products A(M × K)·op(B) with any M. It runs on oneDNN's matmul
/// primitive when the float call would run on oneDNN (REEL_GEMM / blas::mode, N and K above 32 under
/// the automatic rule) and the primitive's JIT kernel exists for this CPU; otherwise the handle
/// keeps B's address and gemm_packed() is an ordinary blas::gemm on it. Either way the result is a
/// fixed function of the values, the shape and the thread count at pack time (bitwise run to run).
/// At 2+ threads op(B) is packed as column blocks (multiples of 64) that reel's pool runs in
/// parallel when the product is large enough. Not thread-safe: one thread packs and uses it.
class PackedB {
 public:
  PackedB();
  ~PackedB();
  PackedB(const PackedB&) = delete;
  PackedB& operator=(const PackedB&) = delete;

  /// (Re)packs op(B): B is (K × N) with row stride ldb, or with trans_b (N × K) and op(B) = Bᵀ.
  /// The storage is reused when the shape and thread count are unchanged. The handle refers to b
  /// (the fallback reads it): b must outlive the products, unchanged.
  void pack(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb);
  /// Whether pack() has been called for this source (b, shape, trans_b) under the mode and thread
  /// count in force now (a packing made under others is not the one they would make).
  bool holds(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb) const;
  bool packed() const;  ///< true when products run on the packed copy (oneDNN), false on B itself
  int64_t k() const;    ///< op(B)'s rows (0 before pack())
  int64_t n() const;    ///< op(B)'s columns (0 before pack())

  struct Impl;  ///< the backend's state (blas_packed.cpp)

 private:
  std::unique_ptr<Impl> impl_;
  friend void gemm_packed(int64_t, const float*, int64_t, const PackedB&, float, float*, int64_t);
};

/// C(M,N) = A(M,K)·op(B) + beta·C, row-major, op(B) from a PackedB (K, N its own). beta = 0 writes
/// C without reading it. UsageError on an empty handle.
void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float beta, float* c, int64_t ldc);

}  // namespace reel::blas
