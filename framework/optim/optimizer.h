#pragma once
/// \file
/// Optimizers update a ParameterStore's parameters from their accumulated gradients, with the
/// semantics of torch.optim (so the same hyperparameters train the same way). Their state (moment
/// buffers, step count) and hyperparameters are exposed by name for checkpoints.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/parameter.h"

namespace reel {

/// A named state buffer, e.g. {"exp_avg", param "rnn.W_hh", its values}.
template <class T>
struct OptimizerBuffer {
  std::string kind;  ///< the buffer's name: "exp_avg", "exp_avg_sq", "momentum_buffer"
  std::string param;  ///< the parameter it belongs to
  std::vector<T>* values;  ///< its values, one per parameter element
};

/// The base of every optimizer: a learning rate, a step count and per-parameter state, updated
/// from the parameters' gradients by step(). Derive from it for an optimizer of your own.
template <class T>
class Optimizer {
 public:
  /// An optimizer of params (typically store.all()) at learning rate lr. Throws UsageError if params
  /// is empty or lr is negative or not finite.
  explicit Optimizer(std::vector<Parameter<T>*> params, double lr);
  virtual ~Optimizer() = default;

  /// One update from the current gradients. Gradients are not zeroed (ParameterStore::zero_grad).
  void step();
  double lr() const { return lr_; }  ///< the current learning rate
  void set_lr(double lr);  ///< sets the learning rate (schedules do); UsageError unless finite and >= 0
  int64_t steps() const { return steps_; }  ///< steps taken (step() calls, or as restored by a checkpoint)
  void set_steps(int64_t n) { steps_ = n; }  ///< sets the step count (checkpoints restore it)
  virtual std::string kind() const = 0;  ///< the optimizer's name in checkpoints ("sgd", "adam", "adamw")
  /// Every state buffer, one per (kind, parameter), in a stable order.
  virtual std::vector<OptimizerBuffer<T>> buffers() = 0;
  /// The options that fix the update rule, by torch.optim's names (booleans as 0/1), lr excepted:
  /// the learning rate is state (schedules change it; checkpoints restore it). Checkpoints record
  /// them and refuse to resume into an optimizer whose hyperparameters differ. An optimizer of
  /// your own should override this (the default: none).
  virtual std::map<std::string, double> hyperparameters() const { return {}; }
  /// The parameters it updates, in order
  const std::vector<Parameter<T>*>& params() const { return params_; }

 protected:
  /// Updates p = params_[i] from p.grad; steps_ already counts this step
  virtual void update(size_t i, Parameter<T>& p) = 0;
  std::vector<Parameter<T>*> params_;  ///< the parameters, in the order given
  double lr_;  ///< the current learning rate
  int64_t steps_ = 0;  ///< steps taken
};

/// SGD's options, named and defaulted as torch.optim.SGD's.
struct SGDOptions {
  double lr = 0.01;  ///< the learning rate
  double momentum = 0;  ///< momentum factor (0: plain SGD)
  double dampening = 0;  ///< dampening of the momentum
  double weight_decay = 0;  ///< L2 penalty added to the gradient
  bool nesterov = false;  ///< Nesterov momentum (needs momentum > 0 and dampening 0)
};

/// torch.optim.SGD: g = grad + wd·p; buf = g (first step) or momentum·buf + (1-dampening)·g;
/// g = nesterov ? g + momentum·buf : buf; p -= lr·g.
template <class T>
class SGD : public Optimizer<T> {
 public:
  /// SGD over params; throws UsageError on a negative momentum or weight decay, or nesterov without
  /// momentum > 0 and dampening 0.
  SGD(std::vector<Parameter<T>*> params, const SGDOptions& o);
  std::string kind() const override { return "sgd"; }  ///< "sgd"
  std::vector<OptimizerBuffer<T>> buffers() override;
  /// momentum, dampening, weight_decay, nesterov
  std::map<std::string, double> hyperparameters() const override;
  const SGDOptions& options() const { return o_; }  ///< lr: as constructed (lr() is the current one)

 private:
  void update(size_t i, Parameter<T>& p) override;
  SGDOptions o_;
  std::vector<std::vector<T>> momentum_;
};

/// Adam's options, named and defaulted as torch.optim.Adam's.
struct AdamOptions {
  double lr = 1e-3;  ///< the learning rate
  double beta1 = 0.9;  ///< decay of the first moment (gradient mean)
  double beta2 = 0.999;  ///< decay of the second moment (squared gradient mean)
  double eps = 1e-8;  ///< added to the denominator
  double weight_decay = 0;  ///< weight decay: L2 in the gradient (Adam) or decoupled (AdamW)
  bool decoupled = false;  ///< true: AdamW (p -= lr·wd·p), false: L2 added to the gradient (Adam)
};

/// torch.optim.Adam: m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
/// p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps).
template <class T>
class Adam : public Optimizer<T> {
 public:
  /// Adam (or AdamW) over params; throws UsageError unless 0 <= beta1, beta2 < 1 and eps, weight_decay >= 0.
  Adam(std::vector<Parameter<T>*> params, const AdamOptions& o);
  /// "adamw" if decoupled, else "adam"
  std::string kind() const override { return o_.decoupled ? "adamw" : "adam"; }
  std::vector<OptimizerBuffer<T>> buffers() override;
  /// beta1, beta2, eps, weight_decay (decoupled or not is the kind: adamw or adam)
  std::map<std::string, double> hyperparameters() const override;
  const AdamOptions& options() const { return o_; }  ///< lr: as constructed (lr() is the current one)

 private:
  void update(size_t i, Parameter<T>& p) override;
  AdamOptions o_;
  std::vector<std::vector<T>> m_, v_;
};

}  // namespace reel
