// Random GEMM operands with odd strides, their double reference and the error measure the GEMM
// tests share (test_blas_backends.cpp, test_blas_packed.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "framework/blas.h"
#include "framework/rng.h"

namespace reel::testing {

// Restores the GEMM mode and thread count a test changed.
struct BlasState {
  blas::Mode mode = blas::mode();
  int threads = blas::threads();
  ~BlasState() {
    blas::set_mode(mode);
    blas::set_threads(threads);
  }
};

struct Gemm {
  bool ta, tb;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  std::vector<float> a, b, c0;
};

// Random operands with row strides `pad` wider than they need (odd strides).
inline Gemm make_gemm(Rng& rng, bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, float alpha, float beta) {
  Gemm g{ta, tb, m, n, k, (ta ? m : k) + pad, (tb ? k : n) + pad, n + pad, alpha, beta, {}, {}, {}};
  g.a.resize(static_cast<size_t>((ta ? k : m) * g.lda));
  g.b.resize(static_cast<size_t>((tb ? n : k) * g.ldb));
  g.c0.resize(static_cast<size_t>(m * g.ldc));
  for (float& v : g.a) v = static_cast<float>(rng.normal());
  for (float& v : g.b) v = static_cast<float>(rng.normal());
  for (float& v : g.c0) v = static_cast<float>(rng.normal());
  return g;
}

inline std::vector<float> run(const Gemm& g, blas::Mode mode, bool nan_c = false) {
  blas::set_mode(mode);
  std::vector<float> c = g.c0;
  if (nan_c) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
  blas::gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a.data(), g.lda, g.b.data(), g.ldb, g.beta, c.data(), g.ldc);
  return c;
}

// The double reference of every element of C, and its scale |alpha|·Σ|a||b| + |beta||c0| (the size
// of the rounding errors any summation order makes).
struct Reference {
  std::vector<double> value, scale;
};

inline Reference reference(const Gemm& g) {
  Reference r;
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double ref = g.beta == 0 ? 0.0 : double(g.beta) * g.c0[static_cast<size_t>(i * g.ldc + j)];
      double scale = std::abs(ref);
      for (int64_t p = 0; p < g.k; ++p) {
        const double av = g.ta ? g.a[static_cast<size_t>(p * g.lda + i)] : g.a[static_cast<size_t>(i * g.lda + p)];
        const double bv = g.tb ? g.b[static_cast<size_t>(j * g.ldb + p)] : g.b[static_cast<size_t>(p * g.ldb + j)];
        ref += double(g.alpha) * av * bv;
        scale += std::abs(double(g.alpha) * av * bv);
      }
      r.value.push_back(ref);
      r.scale.push_back(std::max(scale, 1e-30));
    }
  return r;
}

// The worst |c - want| / scale over C (want: the reference, or another result); infinity if an
// element is not finite or the padding between rows (c_init there) was touched.
inline double worst_error(const Gemm& g, const Reference& r, const std::vector<float>& c, const std::vector<float>& c_init,
                   const std::vector<float>* want = nullptr) {
  double worst = 0;
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.ldc; ++j) {
      const size_t at = static_cast<size_t>(i * g.ldc + j);
      const float got = c[at];
      if (j >= g.n) {
        if (!(got == c_init[at] || (std::isnan(got) && std::isnan(c_init[at])))) return std::numeric_limits<double>::infinity();
        continue;
      }
      if (!std::isfinite(got)) return std::numeric_limits<double>::infinity();
      const size_t e = static_cast<size_t>(i * g.n + j);
      const double w = want ? double((*want)[at]) : r.value[e];
      worst = std::max(worst, std::abs(got - w) / r.scale[e]);
    }
  return worst;
}

}  // namespace reel::testing
