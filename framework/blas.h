#pragma once
/// \file
/// The one door to BLAS: row-major GEMM for float and double, and the thread setting.
#include <cstdint>
#include <string>

namespace reel::blas {

/// C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C, row-major; lda/ldb/ldc are row strides,
/// op(X) is X or, with trans_x, its transpose. In float and in double.
///@{
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);
///@}

/// The single place that sets how many threads BLAS uses (n >= 1).
void set_threads(int n);
int threads();  ///< how many threads BLAS uses
/// Flush denormals to zero (FTZ/DAZ) in the calling thread: gradients fading back through time
/// otherwise hit the slow denormal path. Call in every thread that computes.
void flush_denormals();
/// What BLAS library and kernel are in use (e.g. "OpenBLAS 0.3.21 Prescott").
std::string describe();
/// The start-up check: a warning when OpenBLAS runs kernels older than this CPU can use (Debian's
/// 0.3.21 falls back to Prescott/SSE3 on CPUs it does not know: sgemm 4-5x slower), saying which
/// OPENBLAS_CORETYPE to set; empty when the kernel fits. Programs log it at start (run_main).
std::string kernel_warning();
/// The rule behind it, for a kernel name and the CPU's features (testable anywhere).
std::string kernel_advice(const std::string& core, bool cpu_avx512, bool cpu_avx2);

}  // namespace reel::blas
