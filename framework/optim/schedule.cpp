#include "framework/optim/schedule.h"

#include <algorithm>
#include <cmath>

#include "framework/error.h"

namespace reel {

LRSchedule LRSchedule::constant(double lr) {
  LRSchedule s;
  s.base_lr = lr;
  return s;
}

LRSchedule LRSchedule::step(double lr, int64_t step_size, double gamma) {
  if (step_size <= 0) throw UsageError("LRSchedule::step: step_size must be > 0, got " + std::to_string(step_size));
  LRSchedule s;
  s.kind = Kind::Step;
  s.base_lr = lr;
  s.step_size = step_size;
  s.gamma = gamma;
  return s;
}

LRSchedule LRSchedule::cosine(double lr, int64_t total_steps, double min_lr) {
  if (total_steps <= 0) throw UsageError("LRSchedule::cosine: total_steps must be > 0, got " + std::to_string(total_steps));
  LRSchedule s;
  s.kind = Kind::Cosine;
  s.base_lr = lr;
  s.total_steps = total_steps;
  s.min_lr = min_lr;
  return s;
}

LRSchedule::Kind LRSchedule::parse(const std::string& name) {
  if (name == "constant") return Kind::Constant;
  if (name == "step") return Kind::Step;
  if (name == "cosine") return Kind::Cosine;
  throw UsageError("LRSchedule: unknown schedule '" + name + "' (expected constant, step or cosine)");
}

double LRSchedule::lr_at(int64_t step) const {
  switch (kind) {
    case Kind::Constant: return base_lr;
    case Kind::Step: return base_lr * std::pow(gamma, static_cast<double>(step / step_size));
    case Kind::Cosine: {
      const double t = static_cast<double>(std::min(step, total_steps)) / static_cast<double>(total_steps);
      return min_lr + (base_lr - min_lr) * (1 + std::cos(3.14159265358979323846 * t)) / 2;
    }
  }
  return base_lr;
}

}  // namespace reel
