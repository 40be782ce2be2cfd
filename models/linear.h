#pragma once
/// \file
/// Linear layer y = x·W + b, W stored (in, out). Initialised like torch.nn.Linear:
/// W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
#include <cmath>
#include <string>

#include "framework/ops.h"
#include "framework/rng.h"

namespace reel {

/// A fully connected layer y = x·W + b (see the file description).
template <class T>
class Linear {
 public:
  /// Registers `<prefix>.W` (in, out) and `<prefix>.b` (out) in store, drawn from rng.
  Linear(ParameterStore<T>& store, int64_t in, int64_t out, Rng& rng, const std::string& prefix)
      : W(store.add(prefix + ".W", Shape{in, out})), b(store.add(prefix + ".b", Shape{out})) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    for (T& v : W.value) v = static_cast<T>((2 * rng.uniform() - 1) * bound);
    for (T& v : b.value) v = static_cast<T>((2 * rng.uniform() - 1) * bound);
  }
  /// x (..., in) -> (..., out)
  Var<T> forward(Tape<T>& tape, const Var<T>& x) const {
    return bias_add(matmul(x, tape.param(W)), tape.param(b));
  }

  Parameter<T>& W;  ///< (in, out)
  Parameter<T>& b;  ///< (out)
};

}  // namespace reel
