// A fresh process that never calls blas::set_threads: the library itself must compute with ONE
// thread (OpenBLAS alone would start with every core), or with REEL_THREADS when the environment
// sets it. Registered in ctest twice (tests/CMakeLists.txt): with REEL_THREADS unset, and with
// REEL_THREADS=2. Prints one JSON line; exit 0 when every check holds, 1 if one fails, 2 on an error.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "framework/blas.h"

extern "C" int openblas_get_num_threads(void);

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

}  // namespace

int main() {
  try {
    using namespace reel::blas;
    const char* env = std::getenv("REEL_THREADS");
    const int want = env && *env ? std::atoi(env) : 1;
    const int openblas_at_start = openblas_get_num_threads();  // OpenBLAS's own default, before reel configures it

    const int64_t m = 64, n = 512, k = 512;
    std::vector<float> a(static_cast<size_t>(m * k), 0.5f), b(static_cast<size_t>(k * n), 0.25f), c(static_cast<size_t>(m * n));
    gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    check(c[0] == 0.5f * 0.25f * k, "gemm result");
    check(threads() == want, "threads() == " + std::to_string(want) + ", got " + std::to_string(threads()));
    check(openblas_get_num_threads() == want, "openblas_get_num_threads() == " + std::to_string(openblas_get_num_threads()));
    std::printf("{\"default_threads\":%d,\"want\":%d,\"openblas_at_start\":%d,\"openblas\":%d,\"failures\":%d}\n",
                threads(), want, openblas_at_start, openblas_get_num_threads(), failures);
    return failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
