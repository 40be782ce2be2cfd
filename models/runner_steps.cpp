#include "models/runner_steps.h"

#include "framework/ops.h"
#include "models/sequence_runner.h"

namespace reel {

template <class T>
void RunnerSteps<T>::require_unidirectional(bool bidirectional) {
  if (bidirectional)
    throw UsageError("truncated and checkpointed BPTT run a sequence step by step from its start: a bidirectional "
                     "model has no such form (its reverse direction starts at each sequence's end); use full BPTT "
                     "(SequenceRunner::forward) or a unidirectional model");
}

template <class T>
RunnerSteps<T>::RunnerSteps(const SequenceRunner<T>& runner) : runner_(runner) {
  require_unidirectional(runner.config().bidirectional);
}

template <class T>
int64_t RunnerSteps<T>::input_dim() const {
  return runner_.config().input_dim;
}
template <class T>
int64_t RunnerSteps<T>::state_dim() const {
  return runner_.config().num_layers * runner_.state_size() * runner_.config().hidden_dim;
}
template <class T>
int64_t RunnerSteps<T>::output_dim() const {
  return runner_.config().hidden_dim;
}

template <class T>
void RunnerSteps<T>::begin_scope(Tape<T>& tape, int64_t rows, std::vector<T*>& scratch) const {
  // Per layer, the scratch its cell's fused step reuses from step to step (Cell::step_scratch).
  scratch.assign(static_cast<size_t>(runner_.config().num_layers), nullptr);
  if (!tape.fusion()) return;
  for (int64_t l = 0; l < runner_.config().num_layers; ++l)
    if (const size_t n = runner_.cell(l).step_scratch(rows)) scratch[static_cast<size_t>(l)] = tape.scratch(n);
}

template <class T>
memory::RecurrenceStep<T> RunnerSteps<T>::step(Tape<T>& tape, const Var<T>& x_t, const Var<T>& prev,
                                              const std::vector<T*>& scratch) const {
  const int64_t L = runner_.config().num_layers, d = runner_.config().hidden_dim;
  const int parts = runner_.state_size();
  const int64_t bt = x_t.shape()[0];
  Var<T> p = prev.shape()[0] == bt ? prev : slice_rows(prev, 0, bt);
  const bool whole = L == 1 && parts == 1;  // the state is h itself
  std::vector<Var<T>>& next = next_;  // capacity kept from step to step: no allocation
  next.clear();
  Var<T> x = x_t;
  for (int64_t l = 0; l < L; ++l) {
    CellState<T> s;
    for (int k = 0; k < parts; ++k) {
      const int64_t col = (l * parts + k) * d;
      s.push_back(whole ? p : slice_cols(p, col, col + d));
    }
    const Cell<T>& cell = runner_.cell(l);
    UnrollContext<T> ctx;
    ctx.batch = bt;
    ctx.dense = false;
    if (static_cast<size_t>(l) < scratch.size()) ctx.buffer[0] = scratch[static_cast<size_t>(l)];
    CellState<T> out = cell.step(tape, cell.project(tape, x), s, &ctx);
    for (const Var<T>& v : out) next.push_back(v);
    x = out[0];
  }
  memory::RecurrenceStep<T> r;
  r.state = whole ? next[0] : concat(next);
  r.output = x;
  return r;
}

template class RunnerSteps<float>;
template class RunnerSteps<double>;

}  // namespace reel
