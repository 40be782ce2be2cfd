// A fresh process that never calls blas::set_threads: the library itself must compute with ONE
// thread on both backends (OpenBLAS alone would start with every core), or with REEL_THREADS when
// the environment sets it. Registered in ctest twice (tests/CMakeLists.txt): with REEL_THREADS
// unset, and with REEL_THREADS=2. Prints one JSON line; exit 0 when every check holds, 1 if one
// fails, 2 on an error (such as an invalid REEL_GEMM, which the ctest "gemm_env_invalid" expects).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "framework/blas.h"
#include "framework/blas_detail.h"

extern "C" int openblas_get_num_threads(void);

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

void gemm_once(reel::blas::Mode mode) {
  reel::blas::set_mode(mode);  // chooses the backend; says nothing about threads
  const int64_t m = 64, n = 512, k = 512;  // large enough for the pool to split it at 2 threads
  std::vector<float> a(static_cast<size_t>(m * k), 0.5f), b(static_cast<size_t>(k * n), 0.25f), c(static_cast<size_t>(m * n));
  reel::blas::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
  check(c[0] == 0.5f * 0.25f * k, "gemm result");
}

}  // namespace

int main() {
  try {
    using namespace reel::blas;
    const char* env = std::getenv("REEL_THREADS");
    const int want = env && *env ? std::atoi(env) : 1;
    const int openblas_at_start = openblas_get_num_threads();  // OpenBLAS's own default, before reel configures it
    const Mode from_env = mode();  // REEL_GEMM: throws here if it is invalid

    gemm_once(Mode::openblas);
    check(threads() == want, "threads() == " + std::to_string(want) + ", got " + std::to_string(threads()));
    check(backend_threads(Backend::openblas) == want, "OpenBLAS runs " + std::to_string(backend_threads(Backend::openblas)));
    check(openblas_get_num_threads() == want, "openblas_get_num_threads() == " + std::to_string(openblas_get_num_threads()));

    int onednn = 0, omp = 0, pool = 0;
    if (onednn_available()) {
      gemm_once(Mode::onednn);
      onednn = backend_threads(Backend::onednn);
      omp = detail::onednn_last_omp_threads();
      pool = detail::onednn_pool_threads();
      check(onednn == want, "oneDNN runs " + std::to_string(onednn));
      check(omp == 1, "oneDNN saw " + std::to_string(omp) + " OpenMP threads (reel runs it at 1 per block)");
      check(pool == want, "reel's pool for oneDNN has " + std::to_string(pool) + " threads");
    }
    std::printf("{\"gemm_env\":\"%s\",\"default_threads\":%d,\"want\":%d,\"openblas_at_start\":%d,\"openblas\":%d,\"onednn\":%d,"
                "\"onednn_omp\":%d,\"onednn_pool\":%d,\"failures\":%d}\n",
                name(from_env), threads(), want, openblas_at_start, openblas_get_num_threads(), onednn, omp, pool, failures);
    return failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
