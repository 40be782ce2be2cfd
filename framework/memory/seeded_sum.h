#pragma once
/// \file
/// seeded_sum: the root a checkpointed or truncated backward hands to Tape::backward.
///
/// \code{.unparsed}
///   y = Σ_i w_i·x_i  +  Σ_j <v_j, c_j>
/// \endcode
///
/// x_i are scalar loss terms with constant weights w_i; v_j are values on the tape whose incoming
/// gradient c_j is already known (dL/dh of a segment's last hidden state, computed by the segment
/// after it; dL/dfinal from the loss head). Backward with seed 1 gives dx_i = w_i and dv_j = c_j
/// exactly (1·c == c, 0 + c == c), so one backward call per segment delivers both the segment's
/// own loss terms and the gradient arriving from later in time. The op touches no parameter, so
/// the order in which parameter gradients accumulate stays the order of full BPTT.
///
/// The c_j are read at backward time from the caller's memory (not copied onto the tape): they
/// must stay valid and unchanged until that backward returns.
#include <vector>

#include "framework/tape.h"

namespace reel::memory {

/// A value v on the tape whose gradient is already known: c_j in the formula above.
template <class T>
struct Seed {
  Var<T> v;  ///< the value
  const T* grad = nullptr;  ///< its gradient, v.size() values, read at backward time
};

/// Throws UsageError if there is nothing to sum or weights and terms differ in number, ShapeError
/// if a term is not a one-element value. Recorded as OpKind::Sum.
template <class T>
Var<T> seeded_sum(const std::vector<Var<T>>& terms, const std::vector<T>& weights,
                  const std::vector<Seed<T>>& seeds = {});

}  // namespace reel::memory
