// The float approximations behind the elementwise loops (framework/ops/fast_math.h) against
// <cmath> in double, and the float sigmoid/tanh loops (vectorised, in place or not) against them:
// the SIMD clone contracts multiply-adds into FMAs, so it may differ from the scalar code by a few ulps.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "framework/ops/backward.h"
#include "framework/ops/fast_math.h"

namespace {

double rel_err(double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1e-300); }

}  // namespace

TEST_CASE("fast_math: exp_value is within 2e-7 relative of exp over its range", "[fast_math]") {
  double worst = 0;
  for (double x = -86.9; x <= 88.0; x += 1.0 / 1024) {
    const float xf = static_cast<float>(x);
    worst = std::max(worst, rel_err(reel::detail::exp_value(xf), std::exp(static_cast<double>(xf))));
  }
  CHECK(worst < 2e-7);
  CHECK(reel::detail::exp_value(0.0f) == 1.0f);
}

TEST_CASE("fast_math: exp_value clamps to normal floats and keeps NaN", "[fast_math]") {
  const float inf = std::numeric_limits<float>::infinity();
  for (float x : {-inf, -1e30f, -200.0f, -88.0f}) {
    const float y = reel::detail::exp_value(x);
    CHECK(std::isnormal(y));
    CHECK(y < 1.7e-38f);
  }
  for (float x : {inf, 1e30f, 100.0f}) {
    const float y = reel::detail::exp_value(x);
    CHECK(std::isfinite(y));
    CHECK(y > 1.6e38f);
  }
  CHECK(std::isnan(reel::detail::exp_value(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("fast_math: sigmoid and tanh values are within a few float ulps of double", "[fast_math]") {
  double worst_s = 0, worst_t = 0;
  for (double x = -30.0; x <= 30.0; x += 1.0 / 512) {
    const float xf = static_cast<float>(x);
    const double xd = xf;
    worst_s = std::max(worst_s, rel_err(reel::detail::sigmoid_value(xf), 1.0 / (1.0 + std::exp(-xd))));
    if (std::abs(xd) > 1e-3) worst_t = std::max(worst_t, rel_err(reel::detail::tanh_value(xf), std::tanh(xd)));
  }
  CHECK(worst_s < 4e-7);
  CHECK(worst_t < 5e-7);
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(reel::detail::sigmoid_value(inf) == 1.0f);
  CHECK(reel::detail::sigmoid_value(-inf) < 1e-38f);
  CHECK(reel::detail::sigmoid_value(-inf) >= 0.0f);
  CHECK(std::isnan(reel::detail::sigmoid_value(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("fast_math: the vectorised loops agree with the scalar values, in place too", "[fast_math]") {
  const int64_t n = 1037;  // not a multiple of any vector width: the tails run too
  std::vector<float> x(n), s(n), t(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(-20.0 + 40.0 * static_cast<double>(i) / n);
  reel::detail::sigmoid_forward(x.data(), s.data(), n);
  reel::detail::tanh_forward(x.data(), t.data(), n);
  std::vector<float> in_place = x;
  reel::detail::sigmoid_forward(in_place.data(), in_place.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    INFO("x = " << x[i]);
    CHECK(rel_err(s[i], reel::detail::sigmoid_value(x[i])) < 4e-7);
    CHECK(rel_err(t[i], reel::detail::tanh_value(x[i])) < 4e-7);
    CHECK(in_place[i] == s[i]);
  }
}
