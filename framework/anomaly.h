#pragma once
/// \file
/// Anomaly detection: finds the first node (in execution order) whose value — or, after backward,
/// whose gradient — holds a NaN or Inf, and names the op, the timestep and the batch row.
/// It scans every value on the tape: opt-in, for debugging (the cheap default check is on the loss
/// and the clipped gradient norm).
#include <optional>
#include <string>

#include "framework/tape.h"

namespace reel {

/// Where find_non_finite found the first NaN or Inf.
struct Anomaly {
  std::string op;        ///< op that produced the value
  int32_t step = -1;     ///< timestep, -1 outside the recurrence
  int64_t row = -1;      ///< batch row (index / last dim)
  int64_t index = -1;    ///< flat index within the value
  bool in_gradient = false;  ///< in a gradient (after backward), not a value
  bool is_nan = false;  ///< NaN (false: an infinity)
  /// "first NaN in the output of op 'tanh' at timestep 3, batch row 1 (element 9)"
  std::string message() const;
};

/// The first node, in execution order, whose value holds a NaN or Inf; nullopt if none does.
/// gradients = true scans the gradients backward left on the tape: all of them on a tape with
/// set_retain_grads(true) (Trainer's anomaly mode sets it), only the leaves' and kept ones otherwise.
template <class T>
std::optional<Anomaly> find_non_finite(const Tape<T>& tape, bool gradients = false);

}  // namespace reel
