#include "framework/optim/optimizer.h"

#include <cmath>

namespace reel {

template <class T>
Optimizer<T>::Optimizer(std::vector<Parameter<T>*> params, double lr) : params_(std::move(params)), lr_(lr) {
  if (params_.empty()) throw UsageError("Optimizer: no parameters to optimise");
  set_lr(lr);
}

template <class T>
void Optimizer<T>::set_lr(double lr) {
  if (!(lr >= 0) || !std::isfinite(lr)) throw UsageError("Optimizer: learning rate must be finite and >= 0, got " + std::to_string(lr));
  lr_ = lr;
}

template <class T>
void Optimizer<T>::step() {
  ++steps_;
  for (size_t i = 0; i < params_.size(); ++i) update(i, *params_[i]);
}

template <class T>
SGD<T>::SGD(std::vector<Parameter<T>*> params, const SGDOptions& o) : Optimizer<T>(std::move(params), o.lr), o_(o) {
  if (!(o.momentum >= 0 && std::isfinite(o.momentum) && o.weight_decay >= 0 && std::isfinite(o.weight_decay) &&
        std::isfinite(o.dampening)) ||
      (o.nesterov && (o.momentum <= 0 || o.dampening != 0)))
    throw UsageError("SGD: momentum and weight_decay must be finite and >= 0, dampening finite; nesterov needs momentum > 0 and "
                     "dampening 0 (got momentum " + std::to_string(o.momentum) + ", weight_decay " + std::to_string(o.weight_decay) +
                     ", dampening " + std::to_string(o.dampening) + ")");
  if (o.momentum > 0)
    for (auto* p : this->params_) momentum_.emplace_back(p->value.size(), T(0));
}

template <class T>
void SGD<T>::update(size_t i, Parameter<T>& p) {
  const T lr = static_cast<T>(this->lr_), wd = static_cast<T>(o_.weight_decay), mu = static_cast<T>(o_.momentum);
  const T damp = static_cast<T>(1 - o_.dampening);
  T* w = p.value.data();
  const T* g = p.grad.data();
  const size_t n = p.value.size();
  for (size_t k = 0; k < n; ++k) {
    T d = g[k] + wd * w[k];
    if (mu != T(0)) {
      T& b = momentum_[i][k];
      b = this->steps_ == 1 ? d : mu * b + damp * d;
      d = o_.nesterov ? d + mu * b : b;
    }
    w[k] -= lr * d;
  }
}

template <class T>
std::vector<OptimizerBuffer<T>> SGD<T>::buffers() {
  std::vector<OptimizerBuffer<T>> out;
  for (size_t i = 0; i < momentum_.size(); ++i) out.push_back({"momentum_buffer", this->params_[i]->name, &momentum_[i]});
  return out;
}

template <class T>
std::map<std::string, double> SGD<T>::hyperparameters() const {
  return {{"momentum", o_.momentum}, {"dampening", o_.dampening}, {"weight_decay", o_.weight_decay}, {"nesterov", o_.nesterov ? 1.0 : 0.0}};
}

template <class T>
Adam<T>::Adam(std::vector<Parameter<T>*> params, const AdamOptions& o) : Optimizer<T>(std::move(params), o.lr), o_(o) {
  if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 && o.eps >= 0 && o.weight_decay >= 0) || !std::isfinite(o.eps) ||
      !std::isfinite(o.weight_decay))
    throw UsageError("Adam: need 0 <= beta1, beta2 < 1 and finite eps, weight_decay >= 0 (got beta1 " + std::to_string(o.beta1) +
                     ", beta2 " + std::to_string(o.beta2) + ", eps " + std::to_string(o.eps) + ", weight_decay " +
                     std::to_string(o.weight_decay) + ")");
  for (auto* p : this->params_) {
    m_.emplace_back(p->value.size(), T(0));
    v_.emplace_back(p->value.size(), T(0));
  }
}

template <class T>
void Adam<T>::update(size_t i, Parameter<T>& p) {
  const double t = static_cast<double>(this->steps_);
  const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2), eps = static_cast<T>(o_.eps);
  const T wd = static_cast<T>(o_.weight_decay), lr = static_cast<T>(this->lr_);
  const T step_size = static_cast<T>(this->lr_ / (1 - std::pow(o_.beta1, t)));
  const T bc2_sqrt = static_cast<T>(std::sqrt(1 - std::pow(o_.beta2, t)));
  T* __restrict w = p.value.data();
  const T* __restrict g = p.grad.data();
  T* __restrict m = m_[i].data();
  T* __restrict v = v_[i].data();
  const size_t n = p.value.size();
  if (o_.decoupled && wd != T(0))
    for (size_t k = 0; k < n; ++k) w[k] -= lr * wd * w[k];
  const T l2 = o_.decoupled ? T(0) : wd;
  // One vectorisable pass; same arithmetic as torch.optim.Adam (sqrt(v)/sqrt(bc2) + eps).
  for (size_t k = 0; k < n; ++k) {
    const T d = g[k] + l2 * w[k];
    const T mk = b1 * m[k] + (T(1) - b1) * d;
    const T vk = b2 * v[k] + (T(1) - b2) * d * d;
    m[k] = mk;
    v[k] = vk;
    w[k] -= step_size * mk / (std::sqrt(vk) / bc2_sqrt + eps);
  }
}

template <class T>
std::vector<OptimizerBuffer<T>> Adam<T>::buffers() {
  std::vector<OptimizerBuffer<T>> out;
  for (size_t i = 0; i < m_.size(); ++i) out.push_back({"exp_avg", this->params_[i]->name, &m_[i]});
  for (size_t i = 0; i < v_.size(); ++i) out.push_back({"exp_avg_sq", this->params_[i]->name, &v_[i]});
  return out;
}

template <class T>
std::map<std::string, double> Adam<T>::hyperparameters() const {
  return {{"beta1", o_.beta1}, {"beta2", o_.beta2}, {"eps", o_.eps}, {"weight_decay", o_.weight_decay}};
}

template class Optimizer<float>;
template class Optimizer<double>;
template class SGD<float>;
template class SGD<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace reel
