// Comparing reel's values with a PyTorch fixture's: the relative error with a floor of
// max(1e-6, 1e-2 · max |ref|) (so near-zero entries are not judged by their relative error), and the
// worst element over many comparisons.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <string>
#include <vector>

namespace reel::testing {

struct Worst {
  double err = 0;
  std::string where;
  int64_t compared = 0;
  void merge(const Worst& o) {
    compared += o.compared;
    if (o.err > err || where.empty()) err = o.err, where = o.where;
  }
};

// Checks n values of got against ref with the error measure above.
template <class T>
inline void check_close(const std::string& what, const std::vector<double>& ref, const T* got, size_t n, double tol,
                 Worst& w) {
  INFO(what);
  REQUIRE(got != nullptr);
  REQUIRE(ref.size() == n);
  double mx = 0;
  for (double v : ref) mx = std::max(mx, std::abs(v));
  const double floor = std::max(1e-6, 1e-2 * mx);
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    const double g = static_cast<double>(got[i]);
    const double e = std::isfinite(g) ? std::abs(g - ref[i]) / std::max(std::abs(ref[i]), floor) : HUGE_VAL;
    if (e > worst) worst = e, at = i;
  }
  w.compared += static_cast<int64_t>(n);
  if (worst > w.err || w.where.empty()) w.err = worst, w.where = what + "[" + std::to_string(at) + "]";
  INFO("element " << at << std::setprecision(17) << ": reel " << static_cast<double>(got[at]) << " vs torch "
                  << ref[at] << " (err " << worst << ", tol " << tol << ", floor " << floor << ")");
  CHECK(worst <= tol);
}

}  // namespace reel::testing
