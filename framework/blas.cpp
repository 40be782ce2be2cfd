#include "framework/blas.h"

#include <cblas.h>

#include <initializer_list>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace reel::blas {

static CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, tr(trans_a), tr(trans_b), static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, tr(trans_a), tr(trans_b), static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }
int threads() { return openblas_get_num_threads(); }

void flush_denormals() {
#if defined(__SSE__)
  _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ (bit 15) | DAZ (bit 6)
#endif
}

std::string kernel_advice(const std::string& core, bool cpu_avx512, bool cpu_avx2) {
  std::string c;
  for (char ch : core) c += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  auto one_of = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (c == n) return true;
    return false;
  };
  const bool avx512_kernel = one_of({"skylakex", "cooperlake", "sapphirerapids"});
  const bool avx2_kernel = avx512_kernel || one_of({"haswell", "zen", "skylake"});
  std::string want;
  if (cpu_avx512 && !avx512_kernel)
    want = "SkylakeX";
  else if (cpu_avx2 && !avx2_kernel)
    want = "Haswell";
  if (want.empty()) return "";
  return "OpenBLAS runs its '" + core + "' kernels, but this CPU has " + (cpu_avx512 ? "AVX-512" : "AVX2") +
         ": matrix products may run several times slower than they can. Set OPENBLAS_CORETYPE=" + want +
         " in the environment before starting the program";
}

std::string kernel_warning() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return kernel_advice(openblas_get_corename(), __builtin_cpu_supports("avx512f"), __builtin_cpu_supports("avx2"));
#else
  return "";
#endif
}

std::string describe() {
  std::string s = openblas_get_config();
  s += " core=";
  s += openblas_get_corename();
  return s;
}

}  // namespace reel::blas
