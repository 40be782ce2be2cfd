#pragma once
/// \file
/// Learning-rate schedules, as functions of the optimizer step (0-based), like torch's
/// ConstantLR(factor 1), StepLR and CosineAnnealingLR (closed form).
#include <cstdint>
#include <string>

namespace reel {

struct LRSchedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  double base_lr = 1e-3;
  int64_t step_size = 1;   ///< Step: multiply by gamma every step_size steps
  double gamma = 0.1;
  int64_t total_steps = 1; ///< Cosine: from base_lr at 0 to min_lr at total_steps
  double min_lr = 0;

  static LRSchedule constant(double lr);
  static LRSchedule step(double lr, int64_t step_size, double gamma);
  static LRSchedule cosine(double lr, int64_t total_steps, double min_lr = 0);
  /// "constant", "step" or "cosine"; anything else throws UsageError naming it.
  static Kind parse(const std::string& name);

  double lr_at(int64_t step) const;
};

}  // namespace reel
