#pragma once
/// \file
/// Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_: returns the pre-clip norm and
/// scales every gradient by max_norm / (norm + 1e-6) when the norm exceeds max_norm. A NaN or Inf
/// norm is never passed through: it throws NumericError naming the step and the first parameter
/// whose gradient is not finite.
#include <cstdint>
#include <vector>

#include "framework/parameter.h"

namespace reel {

/// Clips the gradients of params to a global L2 norm of max_norm (the rule above) and returns the
/// norm before clipping. Throws UsageError unless max_norm > 0, NumericError on a NaN or Inf norm
/// (step, if >= 0, is named in the message).
template <class T>
double clip_grad_norm(const std::vector<Parameter<T>*>& params, double max_norm, int64_t step = -1);

/// The global L2 norm of the gradients (accumulated in double).
template <class T>
double grad_norm(const std::vector<Parameter<T>*>& params);

}  // namespace reel
