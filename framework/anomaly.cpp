#include "framework/anomaly.h"

#include <cmath>

namespace reel {

std::string Anomaly::message() const {
  std::string m = std::string("first ") + (is_nan ? "NaN" : "Inf") + " in " + (in_gradient ? "the gradient of" : "the output of") +
                  " op '" + op + "'";
  m += step >= 0 ? " at timestep " + std::to_string(step) : std::string(" outside the recurrence");
  m += ", batch row " + std::to_string(row) + " (element " + std::to_string(index) + ")";
  return m;
}

template <class T>
std::optional<Anomaly> find_non_finite(const Tape<T>& tape, bool gradients) {
  const size_t n = tape.num_nodes();
  // Values in execution order; gradients in backward order (last node first).
  for (size_t k = 0; k < n; ++k) {
    const int32_t id = static_cast<int32_t>(gradients ? n - 1 - k : k);
    const Node<T>& node = tape.node(id);
    // A parameter's bad values show up in the first op that reads them: report that op, its
    // timestep and row. Bad input data is reported as the input itself.
    if (!gradients && node.kind == OpKind::Param) continue;
    if (gradients && node.alias_of >= 0) continue;  // a view's gradient is its parent's, scanned there
    const T* p = gradients ? node.grad : node.value;
    if (!p) continue;  // no gradient, or a value a fused op did not keep
    const int64_t size = node.shape.size();
    for (int64_t i = 0; i < size; ++i)
      if (!std::isfinite(p[i])) {
        Anomaly a;
        a.op = op_name(node.kind);
        a.step = node.step;
        a.index = i;
        a.row = i / node.shape.last();
        a.in_gradient = gradients;
        a.is_nan = std::isnan(p[i]);
        return a;
      }
  }
  return std::nullopt;
}

template std::optional<Anomaly> find_non_finite(const Tape<float>&, bool);
template std::optional<Anomaly> find_non_finite(const Tape<double>&, bool);

}  // namespace reel
