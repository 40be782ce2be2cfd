#include "framework/optim/clip.h"

#include <cmath>
#include <string>

namespace reel {

template <class T>
double grad_norm(const std::vector<Parameter<T>*>& params) {
  // Eight fixed partial sums in double: vectorisable and the same order on every run.
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (const auto* p : params) {
    const T* g = p->grad.data();
    const size_t n = p->grad.size(), n8 = n / 8 * 8;
    for (size_t k = 0; k < n8; k += 8)
      for (size_t j = 0; j < 8; ++j) acc[j] += static_cast<double>(g[k + j]) * static_cast<double>(g[k + j]);
    for (size_t k = n8; k < n; ++k) acc[k - n8] += static_cast<double>(g[k]) * static_cast<double>(g[k]);
  }
  return std::sqrt(((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
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
