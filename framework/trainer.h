#pragma once
// A small training-step helper a script can use or ignore: zero gradients, record the forward,
// check the loss, backward, clip, step the optimizer, follow the LR schedule.
//
//   Trainer<float> trainer(store, adam, {.clip_norm = 1.0});
//   auto r = trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, ...); });
//
// A NaN/Inf loss or gradient norm throws NumericError naming the step; with `anomaly` on, the
// message also names the op, timestep and batch row where the first NaN/Inf appeared.
#include <functional>
#include <optional>

#include "framework/optim/optimizer.h"
#include "framework/optim/schedule.h"
#include "framework/tape.h"

namespace reel {

struct TrainerOptions {
  double clip_norm = 0;                 // 0: no clipping (the norm is still checked)
  std::optional<LRSchedule> schedule;   // none: keep the optimizer's lr
  bool anomaly = false;                 // scan every value and gradient for NaN/Inf (slow)
};

struct StepResult {
  double loss = 0;
  double grad_norm = 0;  // before clipping
  double lr = 0;
  int64_t step = 0;      // 1-based count of optimizer steps taken
};

template <class T>
class Trainer {
 public:
  Trainer(ParameterStore<T>& store, Optimizer<T>& opt, TrainerOptions options = {});

  // forward returns the scalar loss recorded on the (cleared) tape.
  StepResult step(Tape<T>& tape, const std::function<Var<T>(Tape<T>&)>& forward);
  int64_t steps() const { return opt_.steps(); }

 private:
  ParameterStore<T>& store_;
  Optimizer<T>& opt_;
  TrainerOptions options_;
};

}  // namespace reel
