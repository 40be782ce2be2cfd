#pragma once
/// \file
/// A small training-step helper a script can use or ignore: zero gradients, record the forward,
/// check the loss, backward, clip, step the optimizer, follow the LR schedule.
///
/// \code
///   TrainerOptions options;                  // C++17: set fields by name, then pass the struct
///   options.clip_norm = 1.0;
///   Trainer<float> trainer(store, adam, options);
///   StepResult r = trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, ...); });
/// \endcode
///
/// Data-parallel: with set_gradient_sync, each rank passes its shard's number of loss terms and the
/// step averages gradients over every rank (framework/distributed/gradient_sync.h); the loss in
/// StepResult is then the global batch's mean loss, and every check below sees global values.
///
/// A NaN/Inf loss or gradient norm throws NumericError naming the step; with `anomaly` on, the
/// message also names the op, timestep and batch row where the first NaN/Inf appeared.
#include <functional>
#include <optional>

#include "framework/optim/optimizer.h"
#include "framework/optim/schedule.h"
#include "framework/tape.h"

namespace reel {
namespace distributed {
template <class T>
class GradientSync;
}

/// What Trainer::step does besides forward, backward and the optimizer's step.
struct TrainerOptions {
  double clip_norm = 0;                 ///< 0: no clipping (the norm is still checked)
  std::optional<LRSchedule> schedule;   ///< none: keep the optimizer's lr
  bool anomaly = false;                 ///< scan every value and gradient for NaN/Inf (slow)
};

/// What one Trainer::step did.
struct StepResult {
  double loss = 0;  ///< the loss (with a gradient sync: the global batch's mean loss)
  double grad_norm = 0;  ///< before clipping
  double lr = 0;  ///< the learning rate this step used
  int64_t step = 0;      ///< 1-based count of optimizer steps taken
};

/// One training step at a time over a store and its optimizer (see the file description).
template <class T>
class Trainer {
 public:
  /// A trainer of store's parameters with opt; both must outlive it.
  Trainer(ParameterStore<T>& store, Optimizer<T>& opt, TrainerOptions options = {});

  /// One step: sets the schedule's lr, clears the tape and zeroes the gradients, records forward,
  /// runs backward, clips (options.clip_norm) and steps the optimizer. Throws NumericError naming
  /// the step on a NaN or Inf loss or gradient norm.
  ///
  /// forward returns the scalar loss recorded on the (cleared) tape: the mean over loss_terms terms.
  /// loss_terms matters only with a gradient sync; 0 means this rank has no data in this step
  /// (forward is not called, the rank still joins the reduction).
  StepResult step(Tape<T>& tape, const std::function<Var<T>(Tape<T>&)>& forward, double loss_terms = 1);
  int64_t steps() const { return opt_.steps(); }  ///< optimizer steps taken (the optimizer's count)
  /// Averages gradients across ranks after every backward (null: one process).
  void set_gradient_sync(distributed::GradientSync<T>* sync) { sync_ = sync; }

 private:
  ParameterStore<T>& store_;
  Optimizer<T>& opt_;
  TrainerOptions options_;
  distributed::GradientSync<T>* sync_ = nullptr;
};

}  // namespace reel
