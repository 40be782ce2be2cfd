#pragma once
// Between blas.cpp (dispatch, threads) and blas_onednn.cpp (oneDNN's sgemm and reel's pool for it).
// Internal: not installed.
#include <cstdint>
#include <functional>
#include <string>

namespace reel::blas::detail {

// True in a build with REEL_WITH_ONEDNN.
bool onednn_built();
// "oneDNN 2.6.3 (CPU runtime OpenMP, ISA ...)"; "" without oneDNN.
std::string onednn_describe();
// oneDNN's row-major sgemm, split into `threads` blocks of C over reel's pool when the call is large
// enough (onednn_parts); oneDNN itself runs at one OpenMP thread in every block. Throws on a
// oneDNN error.
void onednn_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int threads);
// How many blocks a call of this shape is split into at `threads` threads (1: the caller alone).
// A fixed function of the shape: which element goes to which block never depends on timing.
int onednn_parts(int64_t m, int64_t n, int64_t k, int threads);
// Threads of the pool now serving oneDNN calls (1 before any split call).
int onednn_pool_threads();
// The OpenMP threads oneDNN saw in its last call from this thread (1, or 0 before any call).
int onednn_last_omp_threads();
// Since start: blocks of split calls meant for workers, and how many of them the caller computed
// itself because no worker had started them (a late or descheduled worker).
int64_t onednn_blocks_split();
int64_t onednn_blocks_stolen();
// Runs fn(0..parts-1) over reel's pool at `threads` threads (part 0 on the caller; see Pool), one
// split call at a time; parts <= 1 runs fn(0) on the caller. The pool flushes denormals.
void onednn_run_parts(int parts, int threads, const std::function<void(int)>& fn);
// Sets the calling thread's OpenMP thread count to 1 for a scope (oneDNN reads it per call).
class OmpOneThread {
 public:
  OmpOneThread();
  ~OmpOneThread();
  OmpOneThread(const OmpOneThread&) = delete;
  OmpOneThread& operator=(const OmpOneThread&) = delete;

 private:
  int before_;
};

}  // namespace reel::blas::detail
