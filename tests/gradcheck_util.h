// Helpers of the ops' finite-difference tests: reproducible inputs and the check itself.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "framework/grad_check.h"

namespace reel::testing {

using D = double;
using Fn = std::function<Var<D>(Tape<D>&, const std::vector<Var<D>>&)>;

inline GradCheckInput rand_input(Shape s, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  GradCheckInput in;
  in.shape = s;
  in.value.resize(static_cast<size_t>(s.size()));
  uint64_t x = seed * 2654435761ull + 12345;
  for (auto& v : in.value) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    v = lo + (hi - lo) * static_cast<double>(x % 1000003) / 1000003.0;
  }
  return in;
}

inline void expect_ok(const Fn& f, std::vector<GradCheckInput> ins) {
  GradCheckResult r = grad_check<D>(f, std::move(ins));
  INFO(r.worst);
  INFO("max abs error " << r.max_abs_error);
  CHECK(r.ok);
  CHECK(r.max_abs_error < 1e-6);
}

}  // namespace reel::testing
