#pragma once
/// \file
/// Every check in reel is always on and throws; nothing aborts. Messages name the op and the shapes.
#include <stdexcept>
#include <string>

#include "framework/shape.h"

namespace reel {

/// A tensor of the wrong shape reached an op: the message names the op and both shapes.
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
/// An API used out of protocol (stale handle, unknown option, wrong state).
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
/// A NaN or Inf where a finite number was required (loss, gradient norm).
struct NumericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Throws ShapeError `"op: what: (a) vs (b)"` with both shapes.
[[noreturn]] void throw_shape(const std::string& op, const std::string& what, const Shape& a,
                              const Shape& b);
/// Throws ShapeError `"op: what: expected <want>, got <got>"` unless want == got.
void check_shape(const char* op, const char* what, const Shape& want, const Shape& got);

}  // namespace reel
