#include "framework/memory/sequence_problem.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "framework/ops.h"

namespace reel::memory {

template <class T>
void SequenceProblem<T>::validate(const char* who) const {
  const std::string w(who);
  if (!model) throw UsageError(w + ": the problem has no model");
  if (!input) throw UsageError(w + ": the problem has no input");
  if (!step_loss && !final_loss) throw UsageError(w + ": the problem has no loss (step_loss or final_loss)");
  if (batch_sizes.empty()) throw UsageError(w + ": no steps");
  for (size_t t = 0; t < batch_sizes.size(); ++t)
    if (batch_sizes[t] <= 0 || (t > 0 && batch_sizes[t] > batch_sizes[t - 1]))
      throw UsageError(w + ": batch_sizes must be positive and non-increasing (step " + std::to_string(t) +
                       " has " + std::to_string(batch_sizes[t]) + ")");
  if (step_loss && step_counts.size() != batch_sizes.size())
    throw UsageError(w + ": " + std::to_string(step_counts.size()) + " step_counts for " +
                     std::to_string(batch_sizes.size()) + " steps");
  if (!h0.empty() && static_cast<int64_t>(h0.size()) != batch() * state_dim())
    throw ShapeError(w + ": h0 holds " + std::to_string(h0.size()) + " values, expected (" + std::to_string(batch()) +
                     ", " + std::to_string(state_dim()) + ")");
}

namespace {

// The values of step t: the same ops, in the same order, whether recorded or not.
template <class T>
RecurrenceStep<T> step_core(Tape<T>& tape, const SequenceProblem<T>& p, int64_t t, const Var<T>& h_prev,
                            const std::vector<T*>& scratch) {
  const int64_t bt = p.batch_sizes[static_cast<size_t>(t)];
  Var<T> hp = h_prev.shape()[0] == bt ? h_prev : slice_rows(h_prev, 0, bt);
  Var<T> x = p.input(tape, t);
  if (x.shape() != Shape{bt, p.model->input_dim()})
    throw ShapeError("SequenceProblem: input at step " + std::to_string(t) + " is " + x.shape().str() + ", expected (" +
                     std::to_string(bt) + ", " + std::to_string(p.model->input_dim()) + ")");
  return p.model->step(tape, x, hp, scratch);
}

}  // namespace

template <class T>
Var<T> record_step(Tape<T>& tape, const SequenceProblem<T>& p, int64_t t, const Var<T>& h_prev, Scope<T>& scope,
                   bool with_loss) {
  StepScope<T> step(tape, static_cast<int32_t>(t));
  auto s = step_core(tape, p, t, h_prev, scope.scratch);
  scope.h.push_back(s.state);
  scope.out.push_back(s.output);
  const int64_t bt = p.batch_sizes[static_cast<size_t>(t)];
  const int64_t next = t + 1 < p.steps() ? p.batch_sizes[static_cast<size_t>(t + 1)] : 0;
  if (next < bt) {
    scope.final_pieces.push_back(next == 0 ? s.output : slice_rows(s.output, next, bt));
    scope.final_steps.push_back(t);
  }
  if (with_loss && p.step_loss) {
    Var<T> term = p.step_loss(tape, t, s.output);
    if (term.size() != 1)
      throw ShapeError("SequenceProblem: step_loss at step " + std::to_string(t) + " returned " + term.shape().str() +
                       ", expected one element");
    scope.terms.push_back(term);
    scope.term_steps.push_back(t);
  }
  return s.state;
}

template <class T>
Scope<T> record_scope(Tape<T>& tape, const SequenceProblem<T>& p, int64_t begin, int64_t end, const T* h_start,
                      bool start_grad) {
  if (begin < 0 || end > p.steps() || begin >= end)
    throw UsageError("record_scope: steps [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside [0, " +
                     std::to_string(p.steps()) + ")");
  Scope<T> sc;
  sc.begin = begin;
  sc.end = end;
  const Shape s0{p.rows_into(begin), p.state_dim()};
  sc.h_start = h_start ? tape.input(h_start, s0, start_grad) : tape.zeros(s0, start_grad);
  tape.set_role(sc.h_start, begin == 0 ? "h0" : "h");
  // The model's scratch, shared by the scope's steps (batch sizes only shrink).
  p.model->begin_scope(tape, p.batch_sizes[static_cast<size_t>(begin)], sc.scratch);
  sc.h.reserve(static_cast<size_t>(end - begin));
  sc.out.reserve(static_cast<size_t>(end - begin));
  Var<T> h = sc.h_start;
  for (int64_t t = begin; t < end; ++t) h = record_step(tape, p, t, h, sc);
  return sc;
}

template <class T>
void advance(Tape<T>& tape, const SequenceProblem<T>& p, int64_t begin, int64_t end, std::vector<T>& h, T* finals,
             bool per_step) {
  const int64_t d = p.state_dim(), o = p.output_dim();
  if (static_cast<int64_t>(h.size()) < p.batch() * d) h.resize(static_cast<size_t>(p.batch() * d));
  if (begin >= end) return;
  NoGradGuard<T> no_grad(tape);
  Var<T> hv;
  std::vector<T*> scratch;
  for (int64_t t = begin; t < end; ++t) {
    StepScope<T> step(tape, static_cast<int32_t>(t));
    if (per_step || t == begin) {
      tape.clear();
      hv = tape.input(h.data(), Shape{p.rows_into(t), d});
      scratch.clear();
      p.model->begin_scope(tape, p.batch_sizes[static_cast<size_t>(t)], scratch);
    }
    RecurrenceStep<T> s = step_core(tape, p, t, hv, scratch);
    hv = s.state;
    const int64_t bt = p.batch_sizes[static_cast<size_t>(t)];
    const int64_t next = t + 1 < p.steps() ? p.batch_sizes[static_cast<size_t>(t + 1)] : 0;
    if (finals && next < bt)
      std::memcpy(finals + next * o, s.output.data() + next * o, static_cast<size_t>((bt - next) * o) * sizeof(T));
    if (per_step || t + 1 == end) std::memcpy(h.data(), hv.data(), static_cast<size_t>(bt * d) * sizeof(T));
  }
}

template <class T>
Var<T> finals_on_tape(Tape<T>& tape, const SequenceProblem<T>& p, const Scope<T>& scope, const T* finals_before) {
  if (scope.end != p.steps()) throw UsageError("finals_on_tape: the scope does not reach the last step");
  std::vector<Var<T>> ordered(scope.final_pieces.rbegin(), scope.final_pieces.rend());
  const int64_t kept = p.batch_sizes[static_cast<size_t>(scope.begin)];
  if (scope.begin > 0 && kept < p.batch()) {
    if (!finals_before) throw UsageError("finals_on_tape: sequences ended before the scope, and no finals were given");
    ordered.push_back(tape.input(finals_before + kept * p.output_dim(), Shape{p.batch() - kept, p.output_dim()}));
  }
  return ordered.size() == 1 ? ordered[0] : concat_rows(ordered);
}

template <class T>
int64_t count_in(const SequenceProblem<T>& p, int64_t begin, int64_t end) {
  int64_t n = 0;
  if (p.step_loss)
    for (int64_t t = begin; t < end; ++t) n += p.step_counts[static_cast<size_t>(t)];
  return n;
}

template <class T>
Var<T> scope_root(const SequenceProblem<T>& p, const Scope<T>& scope, const Var<T>& final_term,
                  const std::vector<Seed<T>>& seeds, int64_t count_total) {
  std::vector<Var<T>> terms = scope.terms;
  std::vector<T> weights;
  weights.reserve(terms.size() + 1);
  for (int64_t t : scope.term_steps)
    weights.push_back(static_cast<T>(p.step_counts[static_cast<size_t>(t)]) / static_cast<T>(count_total));
  if (final_term.valid()) {
    terms.push_back(final_term);
    weights.push_back(T(1));
  }
  if (terms.empty() && seeds.empty()) return Var<T>();
  return seeded_sum(terms, weights, seeds);
}

template <class T>
Var<T> record_full(Tape<T>& tape, const SequenceProblem<T>& p) {
  p.validate("record_full");
  Scope<T> sc = record_scope(tape, p, 0, p.steps(), p.h0.empty() ? nullptr : p.h0.data(), false);
  Var<T> final_term;
  if (p.final_loss) final_term = p.final_loss(tape, finals_on_tape(tape, p, sc, static_cast<const T*>(nullptr)));
  return scope_root(p, sc, final_term, {}, count_in(p, 0, p.steps()));
}

namespace {

// Gradient buffers of nodes [n0, n1) after a backward: one per node that received a gradient,
// except views (they alias their parent's) and parameters (their store's).
template <class T>
size_t grad_bytes(const Tape<T>& tape, const MemoryModel& m, size_t n0, size_t n1) {
  size_t g = 0;
  for (size_t id = n0; id < n1; ++id) {
    const Node<T>& n = tape.node(static_cast<int32_t>(id));
    if (n.grad && !n.is_param && n.alias_of < 0) g += m.alloc(n.shape.size());
  }
  return g;
}

// Step t recorded on a probe tape from a leaf state; backward seeded as a real run would seed it.
template <class T>
Bytes probe_recorded(const SequenceProblem<T>& p, const MemoryModel& m, int64_t t, bool prev_grad, bool state_grad,
                     bool output_grad, size_t* scope_scratch) {
  Tape<T> tape;
  tape.set_retain_grads(true);
  tape.set_store_grads(false);  // the probe's backward must not touch the parameters' gradients
  Var<T> prev = tape.zeros(Shape{p.rows_into(t), p.state_dim()}, prev_grad);
  Scope<T> sc;
  const size_t s0 = tape.stats().value_bytes;
  p.model->begin_scope(tape, p.batch_sizes[static_cast<size_t>(t)], sc.scratch);
  const size_t v0 = tape.stats().value_bytes, n0 = tape.num_nodes();
  if (scope_scratch) *scope_scratch = v0 - s0;
  Var<T> state = record_step(tape, p, t, prev, sc, true);
  const size_t v1 = tape.stats().value_bytes, n1 = tape.num_nodes();
  std::vector<T> ones(static_cast<size_t>(std::max(state.size(), sc.out.back().size())), T(1));
  std::vector<Seed<T>> seeds;
  if (state_grad && state.requires_grad()) seeds.push_back({state, ones.data()});
  if (output_grad && sc.out.back().requires_grad()) seeds.push_back({sc.out.back(), ones.data()});
  std::vector<T> weights(sc.terms.size(), T(1));
  if (!sc.terms.empty() || !seeds.empty()) {
    Var<T> root = seeded_sum(sc.terms, weights, seeds);
    if (root.requires_grad()) tape.backward(root);
  }
  return {v1 - v0, grad_bytes(tape, m, n0, n1)};
}

template <class T>
size_t probe_advance(const SequenceProblem<T>& p, int64_t t) {
  Tape<T> tape;
  NoGradGuard<T> no_grad(tape);
  Var<T> prev = tape.zeros(Shape{p.rows_into(t), p.state_dim()});
  Scope<T> sc;
  p.model->begin_scope(tape, p.batch_sizes[static_cast<size_t>(t)], sc.scratch);
  const size_t v0 = tape.stats().value_bytes;
  record_step(tape, p, t, prev, sc, false);
  return tape.stats().value_bytes - v0;
}

template <class T>
Bytes probe_final(const SequenceProblem<T>& p, const MemoryModel& m) {
  Tape<T> tape;
  tape.set_retain_grads(true);
  tape.set_store_grads(false);
  Var<T> leaf = tape.zeros(Shape{p.batch(), p.output_dim()}, true);
  const size_t v0 = tape.stats().value_bytes, n0 = tape.num_nodes();
  Var<T> loss = p.final_loss(tape, leaf);
  const size_t v1 = tape.stats().value_bytes, n1 = tape.num_nodes();
  if (loss.requires_grad()) tape.backward(seeded_sum<T>({loss}, {T(1)}));
  return {v1 - v0, grad_bytes(tape, m, n0, n1)};
}

}  // namespace

template <class T>
MemoryModel memory_model(const SequenceProblem<T>& p, bool measure) {
  p.validate("memory_model");
  MemoryModel m;
  m.batch_sizes = p.batch_sizes;
  m.input_dim = p.model->input_dim();
  m.input_grad = p.input_grad;
  m.hidden = p.state_dim();
  m.output = p.output_dim();
  m.elem = sizeof(T);
  m.step_loss = static_cast<bool>(p.step_loss);
  m.final_loss = static_cast<bool>(p.final_loss);
  if (!measure) return m;
  // One probe per distinct row count, at its first step (fusion on, as the strategies run).
  for (int64_t t = 0; t < p.steps(); ++t) {
    const int64_t rows = p.batch_sizes[static_cast<size_t>(t)];
    if (!m.probes.empty() && m.probes.back().rows == rows) continue;  // rows never grow back
    StepProbe probe;
    probe.rows = rows;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 2; ++c)
          probe.recorded[a][b][c] = probe_recorded(p, m, t, a, b, c, a + b + c == 0 ? &probe.scope_scratch : nullptr);
    probe.advance = probe_advance(p, t);
    m.probes.push_back(probe);
  }
  if (p.final_loss) {
    m.final_measured = true;
    m.final_bytes = probe_final(p, m);
  }
  return m;
}

// ---- inputs

template <class T>
std::function<Var<T>(Tape<T>&, int64_t)> packed_dense_input(std::shared_ptr<const std::vector<T>> rows,
                                                            int64_t features, const std::vector<int64_t>& batch_sizes) {
  std::vector<int64_t> offsets(batch_sizes.size() + 1, 0);
  for (size_t t = 0; t < batch_sizes.size(); ++t) offsets[t + 1] = offsets[t] + batch_sizes[t];
  if (static_cast<int64_t>(rows->size()) != offsets.back() * features)
    throw ShapeError("packed_dense_input: " + std::to_string(rows->size()) + " values for " +
                     std::to_string(offsets.back()) + " rows of " + std::to_string(features));
  return [rows, features, offsets, batch_sizes](Tape<T>& tape, int64_t t) {
    const auto k = static_cast<size_t>(t);
    return tape.input(rows->data() + offsets[k] * features, Shape{batch_sizes[k], features});
  };
}

template <class T>
std::function<Var<T>(Tape<T>&, int64_t)> padded_dense_input(std::shared_ptr<const std::vector<T>> values,
                                                            int64_t batch, int64_t steps, int64_t features) {
  if (static_cast<int64_t>(values->size()) != batch * steps * features)
    throw ShapeError("padded_dense_input: " + std::to_string(values->size()) + " values, expected (" +
                     std::to_string(batch) + ", " + std::to_string(steps) + ", " + std::to_string(features) + ")");
  return [values, batch, steps, features](Tape<T>& tape, int64_t t) {
    Var<T> x = tape.zeros(Shape{batch, features});
    T* dst = x.data();
    for (int64_t b = 0; b < batch; ++b)
      std::memcpy(dst + b * features, values->data() + (b * steps + t) * features,
                  static_cast<size_t>(features) * sizeof(T));
    return x;
  };
}

template <class T>
std::function<Var<T>(Tape<T>&, int64_t)> packed_embedding_input(Parameter<T>& weight,
                                                                std::shared_ptr<const std::vector<int64_t>> ids,
                                                                const std::vector<int64_t>& batch_sizes) {
  std::vector<int64_t> offsets(batch_sizes.size() + 1, 0);
  for (size_t t = 0; t < batch_sizes.size(); ++t) offsets[t + 1] = offsets[t] + batch_sizes[t];
  if (static_cast<int64_t>(ids->size()) != offsets.back())
    throw ShapeError("packed_embedding_input: " + std::to_string(ids->size()) + " ids for " +
                     std::to_string(offsets.back()) + " rows");
  Parameter<T>* w = &weight;
  return [w, ids, offsets, batch_sizes](Tape<T>& tape, int64_t t) {
    const auto k = static_cast<size_t>(t);
    std::vector<int64_t> step(ids->begin() + offsets[k], ids->begin() + offsets[k + 1]);
    return embedding(tape.param(*w), step, Shape{batch_sizes[k]});
  };
}

#define REEL_INSTANTIATE(T)                                                                                       \
  template struct SequenceProblem<T>;                                                                             \
  template Var<T> record_step(Tape<T>&, const SequenceProblem<T>&, int64_t, const Var<T>&, Scope<T>&, bool);      \
  template Scope<T> record_scope(Tape<T>&, const SequenceProblem<T>&, int64_t, int64_t, const T*, bool);          \
  template void advance(Tape<T>&, const SequenceProblem<T>&, int64_t, int64_t, std::vector<T>&, T*, bool);              \
  template Var<T> finals_on_tape(Tape<T>&, const SequenceProblem<T>&, const Scope<T>&, const T*);                 \
  template int64_t count_in(const SequenceProblem<T>&, int64_t, int64_t);                                         \
  template Var<T> scope_root(const SequenceProblem<T>&, const Scope<T>&, const Var<T>&,                           \
                             const std::vector<Seed<T>>&, int64_t);                                               \
  template Var<T> record_full(Tape<T>&, const SequenceProblem<T>&);                                               \
  template MemoryModel memory_model(const SequenceProblem<T>&, bool);                                                   \
  template std::function<Var<T>(Tape<T>&, int64_t)> packed_dense_input(std::shared_ptr<const std::vector<T>>,     \
                                                                       int64_t, const std::vector<int64_t>&);     \
  template std::function<Var<T>(Tape<T>&, int64_t)> padded_dense_input(std::shared_ptr<const std::vector<T>>,     \
                                                                       int64_t, int64_t, int64_t);                \
  template std::function<Var<T>(Tape<T>&, int64_t)> packed_embedding_input(                                      \
      Parameter<T>&, std::shared_ptr<const std::vector<int64_t>>, const std::vector<int64_t>&);
REEL_INSTANTIATE(float)
REEL_INSTANTIATE(double)
#undef REEL_INSTANTIATE

}  // namespace reel::memory
