// The digits of cross_entropy's and log_softmax's values on confident rows: the max cancels
// against the target's logit exactly, and log z is log1p of the non-max terms. References: the
// exact values (mpmath, 50 digits) and PyTorch 2's F.cross_entropy / F.log_softmax in float64.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "framework/ops.h"

using namespace reel;

namespace {

double rel(double got, double want) { return std::abs(got - want) / std::abs(want); }

template <class T>
T loss_of(const std::vector<T>& logits, int64_t classes, const std::vector<int64_t>& targets,
          const std::vector<T>& mask = {}) {
  Tape<T> tape;
  Var<T> x = tape.input(logits, Shape{static_cast<int64_t>(targets.size()), classes}, true);
  return cross_entropy(x, targets, mask).item();
}

}  // namespace

TEST_CASE("cross_entropy keeps the digits of a confident row's loss (logits [30, 0])", "[ops][loss]") {
  // exact: log(1 + e^-30) = 9.3576229688397368e-14; PyTorch float64: 9.348077867343381e-14.
  // mx + log z - x_t gave 9.237e-14 (30 + 9.36e-14 rounds to the ulp of 30, 3.6e-15).
  const double exact = 9.3576229688397368e-14, torch = 9.348077867343381e-14;
  const double got = loss_of<double>({30, 0}, 2, {0});
  CHECK(rel(got, exact) < 1e-12);
  CHECK(rel(got, torch) < 1e-2);
  // The other target: 30 + log1p(e^-30) (PyTorch 30.000000000000092).
  CHECK(loss_of<double>({30, 0}, 2, {1}) == Approx(30.000000000000092).epsilon(1e-15));
  // Where PyTorch's float64 log(1 + s) is 0 already, log1p still has the value.
  CHECK(rel(loss_of<double>({20, -5, 3}, 3, {0}), 4.1413264274187389858e-8) < 1e-12);   // PyTorch 4.14132644e-8
  CHECK(rel(loss_of<double>({1000, 960, 0}, 3, {0}), 4.2483542552915889863e-18) < 1e-12);  // PyTorch 0
  // A masked mean over rows keeps it too: (9.3576e-14 + 4.2484e-18) / 2, the middle row masked out.
  const double mean = loss_of<double>({30, 0, 0, 0, 0, 5, 1000, 960, 0}, 3, {0, 2, 0}, {1, 0, 1});
  const double want = (std::log1p(2 * std::exp(-30.0)) + 4.2483542552915889863e-18) / 2;
  CHECK(rel(mean, want) < 1e-12);
  // float: the confident row is e^-20 = 2.06e-9, not 0.
  CHECK(rel(static_cast<double>(loss_of<float>({20, 0}, 2, {0})), 2.0611536181902037e-9) < 1e-5);
}

TEST_CASE("log_softmax keeps the digits of a confident row (logits [30, 0])", "[ops][loss]") {
  Tape<double> tape;
  Var<double> x = tape.input(std::vector<double>{30, 0, 0, 30}, Shape{2, 2});
  const std::vector<double> y = log_softmax(x).to_vector();
  REQUIRE(y.size() == 4);
  // PyTorch float64: [-9.348077867343381e-14, -30.000000000000092]; exact -9.3576229688397368e-14.
  CHECK(rel(y[0], -9.3576229688397368e-14) < 1e-12);
  CHECK(rel(y[0], -9.348077867343381e-14) < 1e-2);
  CHECK(y[1] == Approx(-30.000000000000092).epsilon(1e-15));
  // The max may be anywhere in the row.
  CHECK(y[3] == y[0]);
  CHECK(y[2] == y[1]);
  // Rows still normalise: Σ exp(y) = 1.
  CHECK(std::exp(y[0]) + std::exp(y[1]) == Approx(1.0).epsilon(1e-15));
}

TEST_CASE("cross_entropy's gradient on a confident row: softmax minus one-hot", "[ops][loss]") {
  Tape<double> tape;
  Var<double> x = tape.input(std::vector<double>{30, 0, -1, 2}, Shape{2, 2}, true);
  Var<double> loss = cross_entropy(x, std::vector<int64_t>{0, 1});
  tape.backward(loss);
  REQUIRE(x.grad() != nullptr);
  const std::vector<double> g(x.grad(), x.grad() + 4);
  const double p1 = 1 / (1 + std::exp(30.0)), q0 = 1 / (1 + std::exp(3.0));
  CHECK(g[0] == Approx(-p1 / 2).margin(1e-16));  // p - 1 there: exact to the ulp of 1, as in PyTorch
  CHECK(g[1] == Approx(p1 / 2).epsilon(1e-12));
  CHECK(g[2] == Approx(q0 / 2).epsilon(1e-12));
  CHECK(g[3] == Approx(-q0 / 2).epsilon(1e-12));
}
