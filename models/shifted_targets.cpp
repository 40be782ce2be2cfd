#include "models/shifted_targets.h"

namespace reel {

template <class T>
ShiftedTargets shift_targets(const SequenceBatch<T>& target, int64_t bos, int64_t eos) {
  ShiftedTargets s;
  s.steps = target.max_len + 1;
  const size_t n = static_cast<size_t>(target.batch * s.steps);
  s.input.assign(n, 0);
  s.output.assign(n, 0);
  s.lengths.resize(static_cast<size_t>(target.batch));
  for (int64_t b = 0; b < target.batch; ++b) {
    const int64_t len = target.lengths[static_cast<size_t>(b)];
    int64_t* in = s.input.data() + b * s.steps;
    int64_t* out = s.output.data() + b * s.steps;
    in[0] = bos;
    for (int64_t t = 0; t < len; ++t) in[t + 1] = out[t] = target.ids[static_cast<size_t>(b * target.max_len + t)];
    out[len] = eos;
    s.lengths[static_cast<size_t>(b)] = len + 1;
  }
  return s;
}

template ShiftedTargets shift_targets(const SequenceBatch<float>&, int64_t, int64_t);
template ShiftedTargets shift_targets(const SequenceBatch<double>&, int64_t, int64_t);

}  // namespace reel
