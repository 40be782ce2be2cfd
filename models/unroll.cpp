#include "models/unroll.h"

#include <string>

#include "framework/ops.h"

namespace reel {

int64_t check_batch_sizes(const std::vector<int64_t>& batch_sizes, const char* who) {
  if (batch_sizes.empty()) throw UsageError(std::string(who) + ": batch_sizes is empty (no steps)");
  int64_t total = 0;
  for (size_t t = 0; t < batch_sizes.size(); ++t) {
    if (batch_sizes[t] <= 0 || (t > 0 && batch_sizes[t] > batch_sizes[t - 1]))
      throw UsageError(std::string(who) + ": batch_sizes must be positive and non-increasing (step " + std::to_string(t) +
                       " has " + std::to_string(batch_sizes[t]) + ")");
    total += batch_sizes[t];
  }
  return total;
}

namespace {

template <class T>
void check_state(const Cell<T>& cell, const CellState<T>& s0, int64_t rows, const char* who) {
  if (static_cast<int>(s0.size()) != cell.state_size())
    throw UsageError(std::string(who) + ": the '" + cell.config().type + "' cell's state holds " +
                     std::to_string(cell.state_size()) + " tensor(s), the initial state " + std::to_string(s0.size()));
  for (const Var<T>& v : s0)
    if (v.shape() != Shape{rows, cell.hidden_dim()})
      throw_shape(who, "initial state must be (batch, hidden)", Shape{rows, cell.hidden_dim()}, v.shape());
}

template <class T>
CellState<T> rows_of(const CellState<T>& s, int64_t begin, int64_t end) {
  CellState<T> out;
  for (const Var<T>& v : s) out.push_back(begin == 0 && v.shape()[0] == end ? v : slice_rows(v, begin, end));
  return out;
}

// The context an unroll lends its cell: the fused step's scratch, shared by the steps (rows never
// exceed the first step's).
template <class T>
UnrollContext<T> make_context(Tape<T>& tape, const Cell<T>& cell, int64_t steps, int64_t batch, bool dense) {
  tape.refresh_packed();  // the weights may have changed since the last unroll: re-check their packed copies
  UnrollContext<T> ctx;
  ctx.steps = steps;
  ctx.batch = batch;
  ctx.dense = dense;
  if (tape.fusion())
    if (const size_t n = cell.step_scratch(batch)) ctx.buffer[0] = tape.scratch(n);
  return ctx;
}

// A packed batch's steps in time order; sequences ending at step t are rows [bs[t+1], bs[t]) of its state.
template <class T>
void packed_forward(Tape<T>& tape, const Cell<T>& cell, const Var<T>& xp, const std::vector<int64_t>& bs,
                    const std::vector<int64_t>& offset, const CellState<T>& s0, UnrollContext<T>& ctx, Unrolled<T>& out) {
  const int64_t Tn = static_cast<int64_t>(bs.size());
  const size_t parts = s0.size();
  std::vector<std::vector<Var<T>>> pieces(parts);
  CellState<T> state = s0;
  for (int64_t t = 0; t < Tn; ++t) {
    StepScope<T> scope(tape, static_cast<int32_t>(t));
    const int64_t bt = bs[static_cast<size_t>(t)];
    ctx.t = t;
    state = cell.step(tape, slice_rows(xp, offset[static_cast<size_t>(t)], offset[static_cast<size_t>(t)] + bt),
                      rows_of(state, 0, bt), &ctx);
    out.states[static_cast<size_t>(t)] = state;
    const int64_t next = t + 1 < Tn ? bs[static_cast<size_t>(t + 1)] : 0;
    if (next < bt)
      for (size_t k = 0; k < parts; ++k) pieces[k].push_back(next == 0 ? state[k] : slice_rows(state[k], next, bt));
  }
  for (size_t k = 0; k < parts; ++k) {  // longest sequences ended last: reverse into sorted order
    std::vector<Var<T>> ordered(pieces[k].rbegin(), pieces[k].rend());
    out.final.push_back(ordered.size() == 1 ? ordered[0] : concat_rows(ordered));
  }
}

// Step t from T-1 down to 0; rows [bs[t+1], bs[t]) start at step t, from their initial state.
template <class T>
void packed_reverse(Tape<T>& tape, const Cell<T>& cell, const Var<T>& xp, const std::vector<int64_t>& bs,
                    const std::vector<int64_t>& offset, const CellState<T>& s0, UnrollContext<T>& ctx, Unrolled<T>& out) {
  const int64_t Tn = static_cast<int64_t>(bs.size()), B = bs[0];
  CellState<T> state;
  for (int64_t t = Tn - 1; t >= 0; --t) {
    StepScope<T> scope(tape, static_cast<int32_t>(t));
    const int64_t bt = bs[static_cast<size_t>(t)];
    const int64_t carried = t + 1 < Tn ? bs[static_cast<size_t>(t + 1)] : 0;
    CellState<T> prev;
    for (size_t k = 0; k < s0.size(); ++k) {
      if (carried == 0) prev.push_back(bt == B ? s0[k] : slice_rows(s0[k], 0, bt));
      else if (carried == bt) prev.push_back(state[k]);
      else prev.push_back(concat_rows<T>({state[k], slice_rows(s0[k], carried, bt)}));
    }
    ctx.t = Tn - 1 - t;
    state = cell.step(tape, slice_rows(xp, offset[static_cast<size_t>(t)], offset[static_cast<size_t>(t)] + bt), prev, &ctx);
    out.states[static_cast<size_t>(t)] = state;
  }
  out.final = state;
}

}  // namespace

template <class T>
Unrolled<T> unroll_dense(Tape<T>& tape, const Cell<T>& cell, const Var<T>& Xt, const CellState<T>& s0) {
  const Shape sx = Xt.shape();
  if (sx.rank != 3 || sx[0] < 1 || sx[2] != cell.input_dim())
    throw ShapeError("unroll_dense: Xt must be (time >= 1, batch, " + std::to_string(cell.input_dim()) + "), got " + sx.str());
  const int64_t Tn = sx[0], B = sx[1], G = cell.projection_dim();
  check_state(cell, s0, B, "unroll_dense");
  UnrollContext<T> ctx = make_context(tape, cell, Tn, B, /*dense=*/true);
  Var<T> xp = reshape(cell.begin_unroll(tape, Xt, s0, ctx), Shape{Tn * B, G});
  Unrolled<T> out;
  out.states.reserve(static_cast<size_t>(Tn));
  CellState<T> state = s0;
  for (int64_t t = 0; t < Tn; ++t) {
    StepScope<T> scope(tape, static_cast<int32_t>(t));
    ctx.t = t;
    state = cell.step(tape, slice_rows(xp, t * B, (t + 1) * B), state, &ctx);
    out.states.push_back(state);
  }
  out.final = state;
  return out;
}

template <class T>
Unrolled<T> unroll_packed(Tape<T>& tape, const Cell<T>& cell, const Var<T>& X, const std::vector<int64_t>& bs,
                          const CellState<T>& s0, bool reverse) {
  const int64_t total = check_batch_sizes(bs, "unroll_packed");
  const Shape sx = X.shape();
  if (sx.rank != 2 || sx[0] != total || sx[1] != cell.input_dim())
    throw ShapeError("unroll_packed: X must be (" + std::to_string(total) + ", " + std::to_string(cell.input_dim()) +
                     ") for these batch_sizes, got " + sx.str());
  const int64_t B = bs[0], Tn = static_cast<int64_t>(bs.size());
  check_state(cell, s0, B, "unroll_packed");
  std::vector<int64_t> offset(static_cast<size_t>(Tn) + 1, 0);
  for (int64_t t = 0; t < Tn; ++t) offset[static_cast<size_t>(t + 1)] = offset[static_cast<size_t>(t)] + bs[static_cast<size_t>(t)];
  UnrollContext<T> ctx = make_context(tape, cell, Tn, B, /*dense=*/false);
  Var<T> xp = cell.begin_unroll(tape, X, s0, ctx);
  Unrolled<T> out;
  out.states.resize(static_cast<size_t>(Tn));
  if (reverse) packed_reverse(tape, cell, xp, bs, offset, s0, ctx, out);
  else packed_forward(tape, cell, xp, bs, offset, s0, ctx, out);
  return out;
}

#define REEL_INSTANTIATE(T)                                                                                   \
  template Unrolled<T> unroll_dense(Tape<T>&, const Cell<T>&, const Var<T>&, const CellState<T>&);            \
  template Unrolled<T> unroll_packed(Tape<T>&, const Cell<T>&, const Var<T>&, const std::vector<int64_t>&,    \
                                     const CellState<T>&, bool);
REEL_INSTANTIATE(float)
REEL_INSTANTIATE(double)
#undef REEL_INSTANTIATE

}  // namespace reel
