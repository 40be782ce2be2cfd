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
  std::string kind;
  std::string param;
  std::vector<T>* values;
};

template <class T>
class Optimizer {
 public:
  explicit Optimizer(std::vector<Parameter<T>*> params, double lr);
  virtual ~Optimizer() = default;

  /// One update from the current gradients. Gradients are not zeroed (ParameterStore::zero_grad).
  void step();
  double lr() const { return lr_; }
  void set_lr(double lr);
  int64_t steps() const { return steps_; }
  void set_steps(int64_t n) { steps_ = n; }
  virtual std::string kind() const = 0;
  /// Every state buffer, one per (kind, parameter), in a stable order.
  virtual std::vector<OptimizerBuffer<T>> buffers() = 0;
  /// The options that fix the update rule, by torch.optim's names (booleans as 0/1), lr excepted:
  /// the learning rate is state (schedules change it; checkpoints restore it). Checkpoints record
  /// them and refuse to resume into an optimizer whose hyperparameters differ. An optimizer of
  /// your own should override this (the default: none).
  virtual std::map<std::string, double> hyperparameters() const { return {}; }
  const std::vector<Parameter<T>*>& params() const { return params_; }

 protected:
  virtual void update(size_t i, Parameter<T>& p) = 0;  ///< steps_ already counts this step
  std::vector<Parameter<T>*> params_;
  double lr_;
  int64_t steps_ = 0;
};

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

/// torch.optim.SGD: g = grad + wd·p; buf = g (first step) or momentum·buf + (1-dampening)·g;
/// g = nesterov ? g + momentum·buf : buf; p -= lr·g.
template <class T>
class SGD : public Optimizer<T> {
 public:
  SGD(std::vector<Parameter<T>*> params, const SGDOptions& o);
  std::string kind() const override { return "sgd"; }
  std::vector<OptimizerBuffer<T>> buffers() override;
  /// momentum, dampening, weight_decay, nesterov
  std::map<std::string, double> hyperparameters() const override;
  const SGDOptions& options() const { return o_; }  ///< lr: as constructed (lr() is the current one)

 private:
  void update(size_t i, Parameter<T>& p) override;
  SGDOptions o_;
  std::vector<std::vector<T>> momentum_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled = false;  ///< true: AdamW (p -= lr·wd·p), false: L2 added to the gradient (Adam)
};

/// torch.optim.Adam: m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
/// p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps).
template <class T>
class Adam : public Optimizer<T> {
 public:
  Adam(std::vector<Parameter<T>*> params, const AdamOptions& o);
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
