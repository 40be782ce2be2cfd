#include "models/cell.h"

#include <cmath>

namespace reel {

template <class T>
Cell<T>::Cell(const CellConfig& config) : config_(config) {
  if (config.input_dim <= 0 || config.hidden_dim <= 0)
    throw UsageError("cell '" + config.type + "': input_dim and hidden_dim must be > 0 (got " +
                     std::to_string(config.input_dim) + ", " + std::to_string(config.hidden_dim) + ")");
}

template <class T>
Parameter<T>& Cell<T>::add_parameter(ParameterStore<T>& store, const std::string& prefix, const std::string& name,
                                     const Shape& shape) {
  Parameter<T>& p = store.add(prefix + "." + name, shape);
  params_.push_back(&p);
  return p;
}

template <class T>
void Cell<T>::init_uniform(Parameter<T>& p, Rng& rng) const {
  const double bound = 1.0 / std::sqrt(static_cast<double>(config_.hidden_dim));
  for (T& v : p.value) v = static_cast<T>((2 * rng.uniform() - 1) * bound);
}

template class Cell<float>;
template class Cell<double>;

}  // namespace reel
