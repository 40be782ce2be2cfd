#include "framework/blas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <mutex>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "framework/error.h"

namespace reel::blas {

namespace {

CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }

// Resolved lazily on first use; set_threads wins over the environment.
std::mutex config_mu;
std::atomic<int> g_threads{0};  // 0: not configured yet

// OpenBLAS's workers (pthreads build) are created when the library loads, before any program
// code runs, so they compute with the MXCSR of that moment: no FTZ/DAZ (measured: with 2 threads
// and FTZ set in the caller, half of C came out denormal). Restarting them from a thread that has
// FTZ/DAZ set gives them its MXCSR. blas_thread_shutdown_/blas_thread_init are what OpenBLAS's own
// fork handler uses; looked up at run time, as OpenBLAS's OpenMP and serial builds lack them.
void restart_openblas_workers_flushed() {
  using Fn = int (*)();
  static const Fn shutdown = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "blas_thread_shutdown_"));
  static const Fn init = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "blas_thread_init"));
  if (!shutdown || !init) return;
#if defined(__SSE__)
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040);
  shutdown();
  init();
  _mm_setcsr(csr);
#endif
}

void apply_threads(int n) {  // under config_mu
  openblas_set_num_threads(n);
  if (n >= 2) restart_openblas_workers_flushed();
  g_threads.store(n, std::memory_order_release);
}

int ensure_threads() {
  int n = g_threads.load(std::memory_order_acquire);
  if (n > 0) return n;
  std::lock_guard<std::mutex> g(config_mu);
  n = g_threads.load(std::memory_order_relaxed);
  if (n > 0) return n;
  n = 1;  // the library's default: one compute thread
  if (const char* env = std::getenv("REEL_THREADS"); env && *env) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(env, &end, 10);
    if (errno || *end || v < 1 || v > 4096)
      throw UsageError(std::string("REEL_THREADS must be a positive integer, got '") + env + "'");
    n = static_cast<int>(v);
  }
  apply_threads(n);
  return n;
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  ensure_threads();
  cblas_sgemm(CblasRowMajor, tr(trans_a), tr(trans_b), static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
  ensure_threads();
  cblas_dgemm(CblasRowMajor, tr(trans_a), tr(trans_b), static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void set_threads(int n) {
  std::lock_guard<std::mutex> g(config_mu);
  apply_threads(n < 1 ? 1 : n);
}
int threads() { return ensure_threads(); }

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
  s += "; threads=" + std::to_string(ensure_threads());
  return s;
}

}  // namespace reel::blas
