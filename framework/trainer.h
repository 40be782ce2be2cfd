#pragma once
/// \file
/// A small training-step helper a script can use or ignore: zero gradients, record the forward,
/// check the loss, backward, clip, step the optimizer, follow the LR schedule.
///
///   TrainerOptions options;                  // C++17: set fields by name, then pass the struct
///   options.clip_norm = 1.0;
///   Trainer<float> trainer(store, adam, options);
///   StepResult r = trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, ...); });
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

struct TrainerOptions {
  double clip_norm = 0;                 ///< 0: no clipping (the norm is still checked)
  std::optional<LRSchedule> schedule;   ///< none: keep the optimizer's lr
  bool anomaly = false;                 ///< scan every value and gradient for NaN/Inf (slow)
};

struct StepResult {
  double loss = 0;
  double grad_norm = 0;  ///< before clipping
  double lr = 0;
  int64_t step = 0;      ///< 1-based count of optimizer steps taken
};

template <class T>
class Trainer {
 public:
  Trainer(ParameterStore<T>& store, Optimizer<T>& opt, TrainerOptions options = {});

  /// forward returns the scalar loss recorded on the (cleared) tape: the mean over loss_terms terms.
  /// loss_terms matters only with a gradient sync; 0 means this rank has no data in this step
  /// (forward is not called, the rank still joins the reduction).
  StepResult step(Tape<T>& tape, const std::function<Var<T>(Tape<T>&)>& forward, double loss_terms = 1);
  int64_t steps() const { return opt_.steps(); }
  /// Averages gradients across ranks after every backward (null: one process).
  void set_gradient_sync(distributed::GradientSync<T>* sync) { sync_ = sync; }

 private:
  ParameterStore<T>& store_;
  Optimizer<T>& opt_;
  TrainerOptions options_;
  distributed::GradientSync<T>* sync_ = nullptr;
};

}  // namespace reel
