#include "framework/trainer.h"

#include <cmath>

#include "framework/anomaly.h"
#include "framework/distributed/gradient_sync.h"
#include "framework/optim/clip.h"

namespace reel {

template <class T>
Trainer<T>::Trainer(ParameterStore<T>& store, Optimizer<T>& opt, TrainerOptions options)
    : store_(store), opt_(opt), options_(options) {
  if (!(options_.clip_norm >= 0) || !std::isfinite(options_.clip_norm))
    throw UsageError("Trainer: clip_norm must be finite and >= 0 (0: no clipping), got " + std::to_string(options_.clip_norm));
}

template <class T>
StepResult Trainer<T>::step(Tape<T>& tape, const std::function<Var<T>(Tape<T>&)>& forward, double loss_terms) {
  StepResult r;
  r.step = opt_.steps() + 1;
  if (options_.schedule) opt_.set_lr(options_.schedule->lr_at(opt_.steps()));
  r.lr = opt_.lr();
  tape.clear();
  store_.zero_grad();
  // Anomaly mode scans every value and gradient: record op by op and keep every gradient.
  struct ModeScope {
    Tape<T>& t;
    bool fusion, retain;
    ~ModeScope() {
      t.set_fusion(fusion);
      t.set_retain_grads(retain);
    }
  } modes{tape, tape.fusion(), tape.retain_grads()};
  if (options_.anomaly) {
    tape.set_fusion(false);
    tape.set_retain_grads(true);
  }
  const bool has_data = !sync_ || loss_terms > 0;
  Var<T> loss;
  if (has_data) {
    loss = forward(tape);
    r.loss = static_cast<double>(loss.item());
  }
  if (sync_) r.loss = sync_->begin(tape, r.loss, has_data ? loss_terms : 0);  // the global batch's mean loss
  if (!std::isfinite(r.loss)) {
    std::string where;
    if (options_.anomaly)
      if (auto a = find_non_finite(tape)) where = ": " + a->message();
    throw NumericError("training step " + std::to_string(r.step) + ": loss is " +
                       (std::isnan(r.loss) ? "NaN" : "Inf") + where +
                       (options_.anomaly ? "" : " (turn on anomaly mode to find the op)"));
  }
  if (has_data) tape.backward(loss);
  if (sync_) sync_->finish();
  if (options_.anomaly)
    if (auto a = find_non_finite(tape, true))
      throw NumericError("training step " + std::to_string(r.step) + ": " + a->message());
  const auto params = store_.all();
  r.grad_norm = options_.clip_norm > 0 ? clip_grad_norm(params, options_.clip_norm, r.step) : grad_norm(params);
  if (!std::isfinite(r.grad_norm))
    throw NumericError("training step " + std::to_string(r.step) + ": gradient norm is not finite");
  opt_.step();
  if (sync_) sync_->after_step(r.step);
  return r;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace reel
