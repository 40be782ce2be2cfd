#pragma once
/// \file
/// The one door to BLAS: row-major GEMM for float and double, the backend that runs it, and the
/// thread setting.
#include <cstdint>
#include <string>

namespace reel::blas {

/// C(M,N) = alpha * op(A)(M,K) * op(B)(K,N) + beta * C, row-major; lda/ldb/ldc are row strides,
/// op(X) is X or, with trans_x, its transpose. In float and in double. With beta = 0, C is written
/// and never read (it may hold NaN).
///@{
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);
///@}

// ---- Backends
/// The library that runs a GEMM: a float GEMM runs on OpenBLAS or on oneDNN's sgemm (when reel is
/// built with REEL_WITH_ONEDNN); a double GEMM always runs on OpenBLAS (oneDNN has no dgemm).
enum class Backend { openblas, onednn };
/// Which backend a float call gets: `automatic` applies auto_backend(), a fixed rule of the call's
/// shape and the thread count derived from measurements (bench/bench_gemm, docs/benchmarks.md) and
/// never a timing made at run time, so a run is bitwise reproducible at a fixed thread count.
enum class Mode { automatic, openblas, onednn };

/// The mode in force. Unless set_mode() was called, it comes from the environment on first use:
/// REEL_GEMM=auto|openblas|onednn (unset or empty: auto). Any other value, or onednn in a build
/// without oneDNN, throws UsageError naming the variable. The mode and thread count in force are
/// logged once (spdlog info) on the first gemm.
Mode mode();
/// Overrides REEL_GEMM (tests, benchmarks). UsageError for Mode::onednn in a build without oneDNN.
void set_mode(Mode m);
/// "auto", "openblas", "onednn" -> Mode; anything else throws UsageError (what names the source).
Mode parse_mode(const std::string& value, const std::string& what = "REEL_GEMM");
const char* name(Mode m);     ///< "auto", "openblas" or "onednn"
const char* name(Backend b);  ///< "openblas" or "onednn"
bool onednn_available();      ///< whether this build has the oneDNN backend (REEL_WITH_ONEDNN)

/// The backend a float call of this shape runs on under the mode and thread count in force.
Backend backend_for(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k);
/// The automatic rule itself (testable anywhere). openblas_kernel_lags: OpenBLAS runs kernels older
/// than the CPU supports (kernel_warning() non-empty), then oneDNN takes every float call.
Backend auto_backend(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, int threads,
                     bool openblas_kernel_lags = false);
/// The rule in words, for logs and docs.
std::string auto_rule();

// ---- Threads
/// The library computes with ONE thread unless told otherwise: by REEL_THREADS=N in the environment
/// (read on the first gemm or threads() call; a non-positive or non-numeric value throws
/// UsageError), or by set_threads(n), which wins over it. OMP_NUM_THREADS and OPENBLAS_NUM_THREADS
/// are not consulted. The setting applies to both backends: OpenBLAS's pool, and reel's own pool
/// that splits a oneDNN call into n blocks (oneDNN runs at one OpenMP thread in each, so OpenMP
/// never spins). Workers wait passively, and compute with denormals flushed (FTZ/DAZ). Call it from
/// one thread, not while another runs a gemm. n < 1 is 1.
void set_threads(int n);
int threads();  ///< the compute threads in force (1 unless REEL_THREADS or set_threads said otherwise)
/// The threads each backend runs a call with now: OpenBLAS's openblas_get_num_threads(); for
/// oneDNN the blocks reel's pool splits a large call into (0 in a build without oneDNN).
int backend_threads(Backend b);

/// Flush denormals to zero (FTZ/DAZ) in the calling thread: gradients fading back through time
/// otherwise hit the slow denormal path. Call in every thread that computes (reel's and OpenBLAS's
/// workers are flushed by the library).
void flush_denormals();
/// The GEMM set-up in use: mode, backends with their versions and kernels, threads (e.g. "gemm=auto
/// [...]; OpenBLAS 0.3.21 ... core=SkylakeX; oneDNN 2.6.3 ...; threads=1").
std::string describe();
/// The start-up check: a warning when OpenBLAS runs kernels older than this CPU can use (Debian's
/// 0.3.21 falls back to Prescott/SSE3 on CPUs it does not know: sgemm 4-5x slower), saying which
/// OPENBLAS_CORETYPE to set; empty when the kernel fits. Programs log it at start (run_main).
std::string kernel_warning();
/// The rule behind it, for a kernel name and the CPU's features (testable anywhere).
std::string kernel_advice(const std::string& core, bool cpu_avx512, bool cpu_avx2);

}  // namespace reel::blas
