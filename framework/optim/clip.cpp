#include "framework/optim/clip.h"

#include <cmath>
#include <string>

namespace reel {

template <class T>
double grad_norm(const std::vector<Parameter<T>*>& params) {
  double acc = 0;
  for (const auto* p : params)
    for (T g : p->grad) acc += static_cast<double>(g) * static_cast<double>(g);
  return std::sqrt(acc);
}

template <class T>
double clip_grad_norm(const std::vector<Parameter<T>*>& params, double max_norm, int64_t step) {
  if (!(max_norm > 0)) throw UsageError("clip_grad_norm: max_norm must be > 0, got " + std::to_string(max_norm));
  const double norm = grad_norm(params);
  if (!std::isfinite(norm)) {
    std::string where = "gradient norm is " + std::string(std::isnan(norm) ? "NaN" : "Inf");
    for (const auto* p : params)
      for (T g : p->grad)
        if (!std::isfinite(g)) {
          where += " (first non-finite gradient in '" + p->name + "')";
          goto found;
        }
  found:
    throw NumericError("clip_grad_norm: " + where + (step >= 0 ? " at step " + std::to_string(step) : std::string()));
  }
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1) {
    const T c = static_cast<T>(coef);
    for (auto* p : params)
      for (T& g : p->grad) g *= c;
  }
  return norm;
}

template double grad_norm(const std::vector<Parameter<float>*>&);
template double grad_norm(const std::vector<Parameter<double>*>&);
template double clip_grad_norm(const std::vector<Parameter<float>*>&, double, int64_t);
template double clip_grad_norm(const std::vector<Parameter<double>*>&, double, int64_t);

}  // namespace reel
