// docs/guide.md's "an op of your own", compiled and checked: softplus(x) = log(1 + exp(x)), its
// backward dx += sigmoid(x) * dy beside its forward, and the finite-difference check every op gets.
#include <catch2/catch.hpp>

#include <cmath>

#include "framework/grad_check.h"
#include "framework/ops.h"
#include "framework/tape.h"

namespace my {
using namespace reel;

// The backward: called once, when the tape's reverse walk reaches this op's record.
template <class T>
void softplus_backward(Tape<T>& tape, const Record<T>& r) {
  const Node<T>& y = tape.node(r.out);
  const T* x = tape.value(r.in[0]);
  T* dx = tape.grad(r.in[0]);  // null when the input needs no gradient
  if (!dx) return;
  for (int64_t i = 0; i < y.shape.size(); ++i) dx[i] += y.grad[i] / (T(1) + std::exp(-x[i]));  // +=: accumulate
}

// The forward: computes the value, then records how to go back (nothing is recorded under no-grad).
template <class T>
Var<T> softplus(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  tape.check(x, "softplus");  // stale or foreign handles throw here
  Var<T> y = tape.make(x.shape(), OpKind::Custom, x.requires_grad());
  const T* in = x.data();
  T* out = y.data();
  for (int64_t i = 0; i < x.size(); ++i) out[i] = std::max(in[i], T(0)) + std::log1p(std::exp(-std::abs(in[i])));
  tape.record(OpKind::Custom, &softplus_backward<T>, y, {x.id()}, /*saved_bytes=*/0);  // x's value stays on the tape
  return y;
}
}  // namespace my

TEST_CASE("The guide's custom op: forward, backward and its finite-difference check", "[guide][gradcheck]") {
  using namespace reel;
  Tape<double> tape;
  Var<double> x = tape.input(std::vector<double>{-30, -1, 0, 2, 40}, Shape{5}, true);
  Var<double> y = my::softplus(x);
  CHECK(y.data()[2] == Approx(std::log(2.0)));
  CHECK(y.data()[4] == Approx(40.0));  // no overflow: exp(40) never formed
  tape.backward(sum(y));
  CHECK(x.grad()[2] == Approx(0.5));

  const GradCheckResult r = grad_check<double>(
      [](Tape<double>&, const std::vector<Var<double>>& in) { return my::softplus(mul(in[0], in[1])); },
      {{{0.3, -1.2, 2.0, 0.7, -0.1, 1.5}, Shape{2, 3}}, {{1.1, 0.4, -0.8, 2.2, 0.9, -1.3}, Shape{2, 3}}});
  INFO(r.worst);
  CHECK(r.ok);
  CHECK(r.max_rel_error < 1e-7);
}
