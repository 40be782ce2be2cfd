#include "framework/memory/cost_model.h"

#include <algorithm>
#include <string>

#include "framework/error.h"

namespace reel::memory {

LossCost tagger_cost(int64_t classes) {
  LossCost c;
  // matmul(h, W), bias_add, cross_entropy's softmax scratch, the scalar loss
  c.step = {{classes, 0, true}, {classes, 0, true}, {classes, 0, false}, {0, 1, true}};
  return c;
}

LossCost classifier_cost(int64_t hidden, int64_t classes) {
  LossCost c;
  // gather_rows, matmul(·, W), bias_add, softmax scratch, the scalar loss
  c.final = {{hidden, 0, true}, {classes, 0, true}, {classes, 0, true}, {classes, 0, false}, {0, 1, true}};
  return c;
}

LossCost regression_cost(int64_t outputs) {
  LossCost c;
  // matmul(·, W), bias_add, the target input, the scalar loss
  c.final = {{outputs, 0, true}, {outputs, 0, true}, {outputs, 0, false}, {0, 1, true}};
  return c;
}

MemoryModel MemoryModel::dense(int64_t batch, int64_t steps, int64_t input_dim, int64_t hidden, const LossCost& loss,
                               bool step_loss, bool final_loss, size_t elem) {
  MemoryModel m;
  m.batch_sizes.assign(static_cast<size_t>(steps), batch);
  m.input_dim = input_dim;
  m.hidden = hidden;
  m.loss = loss;
  m.step_loss = step_loss;
  m.final_loss = final_loss;
  m.elem = elem;
  return m;
}

size_t MemoryModel::alloc(int64_t elems) const {
  const size_t per = 64 / elem ? 64 / elem : 1;
  const size_t n = static_cast<size_t>(std::max<int64_t>(elems, 1));
  return (n + per - 1) / per * per * elem;
}

namespace {
void add(const MemoryModel& m, Bytes& b, int64_t elems, bool grad) {
  const size_t s = m.alloc(elems);
  b.values += s;
  if (grad) b.grads += s;
}
// A node a fused op keeps no value for: only its gradient.
void add_grad(const MemoryModel& m, Bytes& b, int64_t elems) { b.grads += m.alloc(elems); }
void add_loss(const MemoryModel& m, Bytes& b, const std::vector<Alloc>& allocs, int64_t rows) {
  for (const Alloc& a : allocs) add(m, b, a.per_row * rows + a.fixed, a.grad);
}
}  // namespace

// The vanilla RNN's step (MemoryModel::dense): x_t; the fused recurrence (rnn_cell, on a tape with
// fusion on) keeps x·W_xh and h_t, and gradients for x·W_xh, h·W_hh, add, bias_add (z) and h_t
// (z's scratch is the scope's); slices of h_{t-1} and the finals piece are views; then the loss.
static Bytes vanilla_step(const MemoryModel& m, int64_t t) {
  Bytes b;
  const int64_t bt = m.rows(t), d = m.hidden;
  add(m, b, bt * m.input_dim, m.input_grad);
  for (int i = 0; i < 2; ++i) add(m, b, bt * d, true);
  for (int i = 0; i < 3; ++i) add_grad(m, b, bt * d);
  if (m.step_loss) add_loss(m, b, m.loss.step, bt);
  return b;
}

static const StepProbe* find_probe(const MemoryModel& m, int64_t rows) {
  for (const StepProbe& p : m.probes)
    if (p.rows == rows) return &p;
  if (!m.probes.empty())
    throw UsageError("MemoryModel: no measured step for " + std::to_string(rows) + " rows (the model was measured for another batch)");
  return nullptr;
}

Bytes MemoryModel::recorded_step(int64_t t, bool prev_grad, bool state_grad, bool output_grad) const {
  if (const StepProbe* p = find_probe(*this, rows(t))) return p->recorded[prev_grad][state_grad][output_grad];
  return vanilla_step(*this, t);
}

size_t MemoryModel::advance_step(int64_t t) const {
  if (const StepProbe* p = find_probe(*this, rows(t))) return p->advance;
  Bytes b;
  const int64_t bt = rows(t), d = hidden;  // (slicing the state when the batch shrinks: a view)
  add(*this, b, bt * input_dim, false);
  for (int i = 0; i < 2; ++i) add(*this, b, bt * d, false);  // x·W_xh, h_t (z's scratch: once per chunk)
  return b.values;
}

size_t MemoryModel::scope_overhead(int64_t t) const {
  const size_t state = alloc(rows_into(t) * hidden);
  if (t >= steps()) return state;
  if (const StepProbe* p = find_probe(*this, rows(t))) return state + p->scope_scratch;
  return state + alloc(rows(t) * hidden);  // the fused recurrence's z scratch
}

int64_t MemoryModel::loss_terms(int64_t begin, int64_t end) const { return step_loss ? end - begin : 0; }

Bytes MemoryModel::scope(int64_t begin, int64_t end, bool start_grad, bool with_final, bool root,
                         int64_t root_terms, bool end_seeded) const {
  Bytes b;
  const size_t leaf = alloc(rows_into(begin) * hidden);
  b.values += scope_overhead(begin);  // the leaf and the model's scratch
  if (start_grad) b.grads += leaf;
  for (int64_t t = begin; t < end; ++t) {
    const bool out_grad = step_loss || (final_loss && next_rows(t) < rows(t));
    b += recorded_step(t, t > begin || start_grad, t + 1 < end || end_seeded, out_grad);
  }
  if (with_final && final_loss) {
    const int64_t o = output_width();
    int64_t pieces = 0;
    for (int64_t t = begin; t < end; ++t) pieces += next_rows(t) < rows(t);
    const bool before = begin > 0 && rows(begin) < batch();  // sequences that ended before the scope
    if (before) add(*this, b, (batch() - rows(begin)) * o, false);
    if (pieces + before > 1) add(*this, b, batch() * o, true);  // concat_rows
    if (final_measured) b += final_bytes;
    else add_loss(*this, b, loss.final, batch());
  }
  if (root) {
    add(*this, b, root_terms, false);  // the weights
    add(*this, b, 1, true);            // the root
  }
  return b;
}

size_t MemoryModel::full_bptt() const {
  return scope(0, steps(), false, true, true, loss_terms(0, steps()) + (final_loss ? 1 : 0)).total();
}

size_t MemoryModel::head_tape() const {
  if (!final_loss) return 0;
  Bytes b;
  add(*this, b, batch() * output_width(), true);
  if (final_measured) b += final_bytes;
  else add_loss(*this, b, loss.final, batch());
  add(*this, b, 1, false);
  add(*this, b, 1, true);
  return b.total();
}

size_t MemoryModel::snapshot(int64_t t) const { return static_cast<size_t>(rows_into(t) * hidden) * elem; }

size_t MemoryModel::host_buffers() const {
  // current state, incoming gradient, finals and their gradients, per-step loss values
  const size_t state = static_cast<size_t>(batch() * hidden) * elem;
  const size_t finals = static_cast<size_t>(batch() * output_width()) * elem;
  return 2 * state + (final_loss ? 2 * finals : 0) + static_cast<size_t>(steps()) * elem;
}

size_t hidden_state_bytes(int64_t batch, int64_t steps, int64_t hidden, size_t elem) {
  return static_cast<size_t>(batch * steps * hidden) * elem;
}
size_t with_preactivation_bytes(int64_t batch, int64_t steps, int64_t hidden, size_t elem) {
  return 2 * hidden_state_bytes(batch, steps, hidden, elem);
}

}  // namespace reel::memory
