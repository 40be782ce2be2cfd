#pragma once
/// \file
/// Central finite-difference gradient check, for reel's own ops and for users' compositions.
///
/// f records a computation on the tape from the given leaves and returns its output. The output is
/// scalarised with a fixed pseudo-random projection r (so symmetric errors cannot cancel):
/// s = Σ r_i·y_i. The analytic gradient comes from backward(y, r); the numeric one from
/// (s(x + eps·e_k) - s(x - eps·e_k)) / 2eps for every input element k. Use T = double.
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "framework/tape.h"

namespace reel {

/// The outcome of grad_check.
struct GradCheckResult {
  bool ok = true;  ///< every element within atol + rtol·|numeric|
  double max_abs_error = 0;  ///< the largest |analytic - numeric| over every input element
  double max_rel_error = 0;  ///< the largest relative error among elements whose absolute error exceeds atol
  std::string worst;  ///< the first failing element: "input 1 element 7: analytic 0.12 numeric 0.13"
};

/// One leaf of the checked computation: its values and shape.
struct GradCheckInput {
  std::vector<double> value;  ///< row-major, shape.size() values
  Shape shape;  ///< the leaf's shape
};

/// Checks f's analytic gradients against central differences (the method above) for every
/// element of every input. f gets a fresh tape and one leaf per input (in order, requiring a
/// gradient) and returns its output. eps: the finite-difference step; an element fails when
/// |analytic - numeric| > atol + rtol·|numeric|.
template <class T>
GradCheckResult grad_check(const std::function<Var<T>(Tape<T>&, const std::vector<Var<T>>&)>& f,
                           std::vector<GradCheckInput> inputs, double eps = 1e-6,
                           double atol = 1e-5, double rtol = 1e-3) {
  auto run = [&](Tape<T>& tape, bool grad) {
    tape.clear();
    std::vector<Var<T>> leaves;
    for (auto& in : inputs) {
      std::vector<T> v(in.value.begin(), in.value.end());
      leaves.push_back(tape.input(v, in.shape, grad));
    }
    return std::make_pair(f(tape, leaves), leaves);
  };
  Tape<T> tape;
  auto [y0, leaves0] = run(tape, true);
  const int64_t ny = y0.size();
  std::vector<T> r(static_cast<size_t>(ny));
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (auto& v : r) {  // fixed projection in [0.5, 1.5), asymmetric across elements
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v = T(0.5) + static_cast<T>((state >> 11) * (1.0 / 9007199254740992.0));
  }
  tape.backward(y0, r.data());
  std::vector<std::vector<double>> analytic;
  for (auto& leaf : leaves0) {
    const T* g = leaf.grad();
    std::vector<double> a(static_cast<size_t>(leaf.size()), 0.0);
    if (g) for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>(g[i]);
    analytic.push_back(std::move(a));
  }
  auto scalar = [&]() {
    Tape<T> t2;
    auto [y, unused] = run(t2, false);
    (void)unused;
    double s = 0;
    for (int64_t i = 0; i < ny; ++i) s += static_cast<double>(r[static_cast<size_t>(i)]) * static_cast<double>(y.data()[i]);
    return s;
  };
  GradCheckResult res;
  for (size_t k = 0; k < inputs.size(); ++k) {
    for (size_t i = 0; i < inputs[k].value.size(); ++i) {
      const double orig = inputs[k].value[i];
      inputs[k].value[i] = orig + eps;
      const double up = scalar();
      inputs[k].value[i] = orig - eps;
      const double down = scalar();
      inputs[k].value[i] = orig;
      const double num = (up - down) / (2 * eps);
      const double ana = analytic[k][i];
      const double err = std::abs(num - ana);
      const double rel = err / std::max(std::abs(num), 1e-12);
      if (err > res.max_abs_error) res.max_abs_error = err;
      if (rel > res.max_rel_error && err > atol) res.max_rel_error = rel;
      if (err > atol + rtol * std::abs(num) && res.ok) {
        res.ok = false;
        std::ostringstream os;
        os << "input " << k << " element " << i << ": analytic " << ana << " numeric " << num;
        res.worst = os.str();
      }
    }
  }
  return res;
}

}  // namespace reel
