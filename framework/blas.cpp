#include "framework/blas.h"

#include <cblas.h>
#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <mutex>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "framework/blas_detail.h"
#include "framework/error.h"

namespace reel::blas {

namespace {

CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }

// auto_backend: at or below this N or K, OpenBLAS. OpenBLAS 0.3.21 runs a GEMM on one thread below
// m·n·k = 65536 x GEMM_MULTITHREAD_THRESHOLD (4): its workers stay asleep.
constexpr int64_t kNarrow = 32;
constexpr double kOpenBlasThreadsFrom = 65536.0 * 4;

// Configuration, resolved lazily on first use; set_threads / set_mode win over the environment.
std::mutex config_mu;
std::atomic<int> g_threads{0};   // 0: not configured yet
std::atomic<int> g_mode{-1};     // -1: not resolved yet, else a Mode
std::atomic<bool> g_lags{false};  // OpenBLAS's kernels lag the CPU (kernel_warning() non-empty)
std::atomic<bool> g_logged{false};

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

Mode ensure_mode() {
  int m = g_mode.load(std::memory_order_acquire);
  if (m >= 0) return static_cast<Mode>(m);
  std::lock_guard<std::mutex> g(config_mu);
  m = g_mode.load(std::memory_order_relaxed);
  if (m >= 0) return static_cast<Mode>(m);
  const char* env = std::getenv("REEL_GEMM");
  const Mode mode = env && *env ? parse_mode(env, "REEL_GEMM") : Mode::automatic;
  if (mode == Mode::onednn && !detail::onednn_built())
    throw UsageError("REEL_GEMM=onednn, but this reel was built without oneDNN (REEL_WITH_ONEDNN=OFF; install "
                     "libdnnl-dev and reconfigure)");
  g_lags.store(!kernel_warning().empty(), std::memory_order_relaxed);
  g_mode.store(static_cast<int>(mode), std::memory_order_release);
  return mode;
}

void log_once() {
  if (g_logged.load(std::memory_order_relaxed) || g_logged.exchange(true)) return;
  spdlog::info("blas: {}", describe());
}

}  // namespace

Mode parse_mode(const std::string& value, const std::string& what) {
  if (value == "auto") return Mode::automatic;
  if (value == "openblas") return Mode::openblas;
  if (value == "onednn") return Mode::onednn;
  throw UsageError(what + " must be auto, openblas or onednn, got '" + value + "'");
}

const char* name(Mode m) {
  return m == Mode::automatic ? "auto" : m == Mode::openblas ? "openblas" : "onednn";
}
const char* name(Backend b) { return b == Backend::openblas ? "openblas" : "onednn"; }

bool onednn_available() { return detail::onednn_built(); }

Mode mode() { return ensure_mode(); }

void set_mode(Mode m) {
  if (m == Mode::onednn && !detail::onednn_built())
    throw UsageError("blas::set_mode(onednn): this reel was built without oneDNN (REEL_WITH_ONEDNN=OFF)");
  std::lock_guard<std::mutex> g(config_mu);
  g_lags.store(!kernel_warning().empty(), std::memory_order_relaxed);
  g_mode.store(static_cast<int>(m), std::memory_order_release);
}

Backend auto_backend(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, int threads,
                     bool openblas_kernel_lags) {
  // From bench/bench_gemm's shape classes (docs/benchmarks.md, "GEMM backends"). 1 thread: oneDNN
  // ran 1.0-1.65x OpenBLAS's GFLOP/s wherever neither N nor K is narrow (the recurrent products
  // (32 x d)·(d x G·d) 1.25-1.65x, input projections and weight gradients 1.0-1.3x), and 0.4-1.0x
  // when N or K is at most 32 (the heads' 10 classes, narrow products; 48 and up favour oneDNN);
  // the transposes did not change the winner. 2+ threads: a multi-threaded OpenBLAS call leaves
  // its workers yield-spinning for ~0.1 s, and they take the second core from reel's passive pool:
  // the pool's large calls fell from 237-321 to 138-166 GFLOP/s (1-thread speed) once OpenBLAS
  // calls were interleaved. So OpenBLAS keeps only the narrow calls it runs on the calling thread
  // (m·n·k below its threading threshold); oneDNN on reel's pool takes the rest.
  (void)trans_a, (void)trans_b;
  if (openblas_kernel_lags) return Backend::onednn;
  if (std::min(n, k) > kNarrow) return Backend::onednn;
  const double mnk = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  return threads <= 1 || mnk < kOpenBlasThreadsFrom ? Backend::openblas : Backend::onednn;
}

std::string auto_rule() {
  return "oneDNN unless N or K <= " + std::to_string(kNarrow) +
         ", then OpenBLAS (at 2+ threads only if m·n·k < " + std::to_string(static_cast<int64_t>(kOpenBlasThreadsFrom)) +
         ", which OpenBLAS runs on the calling thread)";
}

Backend backend_for(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k) {
  const Mode md = ensure_mode();
  if (md == Mode::openblas || !detail::onednn_built()) return Backend::openblas;
  if (md == Mode::onednn) return Backend::onednn;
  return auto_backend(trans_a, trans_b, m, n, k, ensure_threads(), g_lags.load(std::memory_order_relaxed));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const int threads = ensure_threads();
  const Backend be = backend_for(trans_a, trans_b, m, n, k);
  log_once();
  if (be == Backend::onednn) {
    detail::onednn_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
    return;
  }
  cblas_sgemm(CblasRowMajor, tr(trans_a), tr(trans_b), static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
  ensure_threads();
  ensure_mode();
  log_once();
  cblas_dgemm(CblasRowMajor, tr(trans_a), tr(trans_b), static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void set_threads(int n) {
  std::lock_guard<std::mutex> g(config_mu);
  apply_threads(n < 1 ? 1 : n);
}
int threads() { return ensure_threads(); }

int backend_threads(Backend b) {
  const int n = ensure_threads();
  if (b == Backend::openblas) return openblas_get_num_threads();
  return detail::onednn_built() ? n : 0;
}

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
  const Mode md = ensure_mode();
  std::string s = "gemm=";
  s += name(md);
  if (md == Mode::automatic && detail::onednn_built())
    s += g_lags.load() ? " (float: oneDNN, as OpenBLAS's kernels lag this CPU; double: OpenBLAS)"
                       : " (float: " + auto_rule() + "; double: OpenBLAS)";
  else if (md == Mode::onednn)
    s += " (float: oneDNN; double: OpenBLAS)";
  else
    s += " (OpenBLAS)";
  s += "; ";
  s += openblas_get_config();
  s += " core=";
  s += openblas_get_corename();
  if (detail::onednn_built()) s += "; " + detail::onednn_describe();
  s += "; threads=" + std::to_string(ensure_threads());
  return s;
}

}  // namespace reel::blas
