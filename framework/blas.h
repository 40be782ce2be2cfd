#pragma once
// The one door to BLAS: row-major GEMM for float and double, and the thread setting.
#include <cstdint>
#include <string>

namespace reel::blas {

// C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C, row-major; lda/ldb/ldc are row strides.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);

// The single place that sets how many threads BLAS uses. The library computes with ONE thread
// unless told otherwise: by REEL_THREADS=N in the environment (read on the first gemm or threads()
// call; a non-positive or non-numeric value throws UsageError), or by set_threads(n), which wins
// over it. OMP_NUM_THREADS and OPENBLAS_NUM_THREADS are not consulted. OpenBLAS's workers compute
// with denormals flushed (FTZ/DAZ). Call it from one thread, not while another runs a gemm.
void set_threads(int n);  // n < 1 is 1
int threads();
// Flush denormals to zero (FTZ/DAZ) in the calling thread: gradients fading back through time
// otherwise hit the slow denormal path. Call in every thread that computes (OpenBLAS's workers
// are flushed by the library).
void flush_denormals();
// What BLAS library and kernel are in use, and the threads ("OpenBLAS 0.3.21 ... core=SkylakeX; threads=1").
std::string describe();
// The start-up check: a warning when OpenBLAS runs kernels older than this CPU can use (Debian's
// 0.3.21 falls back to Prescott/SSE3 on CPUs it does not know: sgemm 4-5x slower), saying which
// OPENBLAS_CORETYPE to set; empty when the kernel fits. Programs log it at start (run_main).
std::string kernel_warning();
// The rule behind it, for a kernel name and the CPU's features (testable anywhere).
std::string kernel_advice(const std::string& core, bool cpu_avx512, bool cpu_avx2);

}  // namespace reel::blas
