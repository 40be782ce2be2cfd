// The BLAS door: row-major GEMM in every transpose combination, the thread setting, flushed
// workers, the kernel check.
#include <catch2/catch.hpp>

#include <vector>

#include "framework/blas.h"
#include "framework/blas_detail.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

using namespace reel;

TEST_CASE("blas::gemm computes op(A)*op(B) row-major, with alpha and beta", "[blas]") {
  const int64_t m = 3, n = 4, k = 5;
  std::vector<double> A(m * k), B(k * n), C0(m * n);
  for (size_t i = 0; i < A.size(); ++i) A[i] = 0.1 * static_cast<double>(i) - 0.7;
  for (size_t i = 0; i < B.size(); ++i) B[i] = 0.05 * static_cast<double>(i * i % 7) - 0.2;
  for (size_t i = 0; i < C0.size(); ++i) C0[i] = static_cast<double>(i);
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      // Store op(A) = A and op(B) = B transposed when asked, so the product is the same.
      std::vector<double> a(A.size()), b(B.size());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < k; ++j) (ta ? a[j * m + i] : a[i * k + j]) = A[i * k + j];
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < n; ++j) (tb ? b[j * k + i] : b[i * n + j]) = B[i * n + j];
      std::vector<double> C = C0;
      blas::gemm(ta, tb, m, n, k, 2.0, a.data(), ta ? m : k, b.data(), tb ? k : n, 0.5, C.data(), n);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double want = 0.5 * C0[i * n + j];
          for (int64_t p = 0; p < k; ++p) want += 2.0 * A[i * k + p] * B[p * n + j];
          CHECK(C[i * n + j] == Approx(want).margin(1e-12));
        }
    }
}

TEST_CASE("blas::set_threads is the one place that sets BLAS threads", "[blas]") {
  const int before = blas::threads();
  blas::set_threads(1);
  CHECK(blas::threads() == 1);
  blas::set_threads(0);  // clamped
  CHECK(blas::threads() == 1);
  blas::set_threads(before);
}

TEST_CASE("the kernel check names the OPENBLAS_CORETYPE a CPU is missing out on", "[blas]") {
  CHECK(blas::kernel_advice("Prescott", true, true).find("OPENBLAS_CORETYPE=SkylakeX") != std::string::npos);
  CHECK(blas::kernel_advice("Prescott", false, true).find("OPENBLAS_CORETYPE=Haswell") != std::string::npos);
  CHECK(blas::kernel_advice("Haswell", true, true).find("SkylakeX") != std::string::npos);
  CHECK(blas::kernel_advice("SkylakeX", true, true).empty());
  CHECK(blas::kernel_advice("Haswell", false, true).empty());
  CHECK(blas::kernel_advice("Prescott", false, false).empty());  // an old CPU: nothing better exists
  CHECK(blas::describe().find("core=") != std::string::npos);
}

TEST_CASE("OpenBLAS's workers and reel's oneDNN pool compute with denormals flushed", "[blas]") {
#if defined(__SSE__)
  const int before = blas::threads();
  const blas::Mode mode_before = blas::mode();
  const unsigned csr = _mm_getcsr();
  blas::flush_denormals();  // the caller's part; the workers' parts are the library's business
  blas::set_threads(2);
  // 1e-20 · 1e-20 = 1e-40 is below float's smallest normal (1.2e-38): with FTZ every product,
  // hence every element, is 0; a worker without FTZ leaves its block of C denormal.
  const int64_t m = 256, n = 512, k = 256;
  std::vector<float> a(static_cast<size_t>(m * k), 1e-20f), b(static_cast<size_t>(k * n), 1e-20f);
  std::vector<blas::Mode> modes = {blas::Mode::openblas};
  if (blas::onednn_available()) {
    modes.push_back(blas::Mode::onednn);
    REQUIRE(blas::detail::onednn_parts(m, n, k, 2) == 2);
  }
  for (blas::Mode mode : modes) {
    blas::set_mode(mode);
    std::vector<float> c(static_cast<size_t>(m * n), 1.0f);
    blas::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    int64_t nonzero = 0;
    for (float v : c) nonzero += v != 0.0f;
    INFO(blas::name(mode) << " at 2 threads: " << nonzero << " of " << c.size() << " elements denormal");
    CHECK(nonzero == 0);
  }
  _mm_setcsr(csr);
  blas::set_mode(mode_before);
  blas::set_threads(before);
#endif
}
