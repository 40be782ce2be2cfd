#pragma once
/// \file
/// Parameters: named leaves that outlive every tape. A ParameterStore owns each parameter's value and
/// gradient; a tape that uses a parameter reads the value in place and accumulates into the gradient
/// in place, so gradients sum over every use (every timestep) and every backward until zero_grad().
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "framework/error.h"
#include "framework/shape.h"

namespace reel {

/// A named tensor that training updates: its value and its accumulated gradient, both owned here.
template <class T>
struct Parameter {
  std::string name;  ///< hierarchical, e.g. "rnn.W_hh": the checkpoint key
  Shape shape;  ///< the shape of value and grad
  std::vector<T> value;  ///< shape.size() values, row-major
  std::vector<T> grad;  ///< the accumulated gradient, same layout (zero_grad() clears it)

  int64_t size() const { return shape.size(); }  ///< number of elements
};

/// Owns the parameters of a model; references to them stay valid as parameters are added.
template <class T>
class ParameterStore {
 public:
  /// A new parameter, value and gradient zero-filled; throws UsageError if name is taken.
  Parameter<T>& add(const std::string& name, const Shape& shape) {
    if (find(name)) throw UsageError("ParameterStore: a parameter named '" + name + "' exists");
    auto p = std::make_unique<Parameter<T>>();
    p->name = name;
    p->shape = shape;
    p->value.assign(static_cast<size_t>(shape.size()), T(0));
    p->grad.assign(static_cast<size_t>(shape.size()), T(0));
    params_.push_back(std::move(p));
    return *params_.back();
  }
  /// The parameter named name, or null.
  Parameter<T>* find(const std::string& name) {
    for (auto& p : params_)
      if (p->name == name) return p.get();
    return nullptr;
  }
  /// The parameter named name; throws UsageError if there is none.
  Parameter<T>& at(const std::string& name) {
    if (Parameter<T>* p = find(name)) return *p;
    throw UsageError("ParameterStore: no parameter named '" + name + "'");
  }
  /// In creation order: stable, so optimizers and checkpoints see the same sequence every run.
  std::vector<Parameter<T>*> all() const {
    std::vector<Parameter<T>*> out;
    out.reserve(params_.size());
    for (auto& p : params_) out.push_back(p.get());
    return out;
  }
  size_t count() const { return params_.size(); }  ///< number of parameters
  /// Elements in all parameters together.
  int64_t num_elements() const {
    int64_t n = 0;
    for (auto& p : params_) n += p->size();
    return n;
  }
  /// Sets every parameter's gradient to zero (before each step: gradients accumulate).
  void zero_grad() {
    for (auto& p : params_) std::fill(p->grad.begin(), p->grad.end(), T(0));
  }

 private:
  std::vector<std::unique_ptr<Parameter<T>>> params_;
};

}  // namespace reel
