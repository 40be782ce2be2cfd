#pragma once
/// \file
/// Learning-rate schedules, as functions of the optimizer step (0-based), like torch's
/// ConstantLR(factor 1), StepLR and CosineAnnealingLR (closed form).
#include <cstdint>
#include <string>

namespace reel {

/// A learning rate as a function of the optimizer step. Make one with constant(), step() or
/// cosine(); Trainer applies it before every step (TrainerOptions::schedule).
struct LRSchedule {
  /// The schedule's shape.
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;  ///< which schedule
  double base_lr = 1e-3;  ///< the learning rate at step 0
  int64_t step_size = 1;   ///< Step: multiply by gamma every step_size steps
  double gamma = 0.1;  ///< Step: the factor
  int64_t total_steps = 1; ///< Cosine: from base_lr at 0 to min_lr at total_steps
  double min_lr = 0;  ///< Cosine: the final learning rate

  static LRSchedule constant(double lr);  ///< lr at every step
  /// Lr · gamma^(step / step_size); UsageError unless step_size > 0
  static LRSchedule step(double lr, int64_t step_size, double gamma);
  /// Cosine from lr to min_lr over total_steps, then min_lr; UsageError unless total_steps > 0
  static LRSchedule cosine(double lr, int64_t total_steps, double min_lr = 0);
  /// "constant", "step" or "cosine"; anything else throws UsageError naming it.
  static Kind parse(const std::string& name);

  double lr_at(int64_t step) const;  ///< the learning rate for optimizer step `step` (0-based)
};

}  // namespace reel
