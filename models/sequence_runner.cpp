#include "models/sequence_runner.h"

#include <string>

#include "framework/ops.h"
#include "models/cell_registry.h"
#include "models/unroll.h"

namespace reel {

void RunnerConfig::validate() const {
  require_cell(cell);
  if (input_dim <= 0 || hidden_dim <= 0)
    throw UsageError("SequenceRunner: input_dim and hidden_dim must be > 0 (got " + std::to_string(input_dim) + ", " +
                     std::to_string(hidden_dim) + ")");
  if (num_layers < 1 || num_layers > 64)
    throw UsageError("SequenceRunner: num_layers must be in [1, 64], got " + std::to_string(num_layers));
}

template <class T>
Var<T> RunnerOutput<T>::final_hidden() const {
  if (final_states.empty()) throw UsageError("RunnerOutput::final_hidden: no final states");
  const size_t top = final_states.size() - static_cast<size_t>(directions);
  if (directions == 1) return final_states[top][0];
  return concat<T>({final_states[top][0], final_states[top + 1][0]});
}

template <class T>
std::string SequenceRunner<T>::layer_prefix(const std::string& prefix, const RunnerConfig& c, int64_t layer, int dir) {
  if (c.num_layers == 1 && !c.bidirectional) return prefix;
  return prefix + ".l" + std::to_string(layer) + (dir == 1 ? "_reverse" : "");
}

template <class T>
SequenceRunner<T>::SequenceRunner(ParameterStore<T>& store, const RunnerConfig& config, Rng& rng,
                                  const std::string& prefix)
    : config_(config) {
  config_.validate();
  for (int64_t l = 0; l < config_.num_layers; ++l)
    for (int dir = 0; dir < config_.directions(); ++dir) {
      CellConfig cc;
      cc.type = config_.cell;
      cc.input_dim = l == 0 ? config_.input_dim : config_.output_dim();
      cc.hidden_dim = config_.hidden_dim;
      cc.activation = config_.activation;
      cells_.push_back(make_cell(store, cc, rng, layer_prefix(prefix, config_, l, dir)));
    }
  if (!config_.bidirectional) steps_ = std::make_unique<RunnerSteps<T>>(*this);
}

template <class T>
const RunnerSteps<T>& SequenceRunner<T>::stepwise() const {
  RunnerSteps<T>::require_unidirectional(config_.bidirectional);
  return *steps_;
}

template <class T>
SequenceRunner<T>::~SequenceRunner() = default;

template <class T>
const Cell<T>& SequenceRunner<T>::cell(int64_t layer, int direction) const {
  if (layer < 0 || layer >= config_.num_layers || direction < 0 || direction >= config_.directions())
    throw UsageError("SequenceRunner::cell: no layer " + std::to_string(layer) + " direction " + std::to_string(direction));
  return *cells_[static_cast<size_t>(layer * config_.directions() + direction)];
}

template <class T>
int SequenceRunner<T>::state_size() const {
  return cells_.front()->state_size();
}

template <class T>
CellState<T> SequenceRunner<T>::initial(Tape<T>& tape, const std::vector<CellState<T>>& init, size_t k, int64_t batch,
                                        const std::vector<int64_t>& order) const {
  const Cell<T>& c = *cells_[k];
  if (init.empty()) {
    CellState<T> s = c.zero_state(tape, batch);
    for (const Var<T>& v : s) tape.set_role(v, "h0");
    return s;
  }
  const CellState<T>& s = init[k];
  if (static_cast<int>(s.size()) != c.state_size())
    throw UsageError("SequenceRunner: initial state " + std::to_string(k) + " holds " + std::to_string(s.size()) +
                     " tensor(s), the '" + c.config().type + "' cell needs " + std::to_string(c.state_size()));
  CellState<T> out;
  for (const Var<T>& v : s) {
    if (v.shape() != Shape{batch, c.hidden_dim()})
      throw_shape("SequenceRunner::forward", "an initial state must be (batch, hidden)", Shape{batch, c.hidden_dim()},
                  v.shape());
    out.push_back(order.empty() ? v : gather_rows(v, order));
  }
  return out;
}

template <class T>
RunnerOutput<T> SequenceRunner<T>::forward(Tape<T>& tape, const RunnerInput<T>& in,
                                           const std::vector<CellState<T>>& init, bool outputs) const {
  tape.check(in.x, "SequenceRunner::forward");
  const size_t n_states = cells_.size();
  if (!init.empty() && init.size() != n_states)
    throw UsageError("SequenceRunner::forward: " + std::to_string(init.size()) + " initial states for " +
                     std::to_string(config_.num_layers) + " layer(s) x " + std::to_string(config_.directions()) +
                     " direction(s) (expected " + std::to_string(n_states) + ", or none for zeros)");
  tape.set_role(in.x, "x");
  return in.packed ? forward_packed(tape, in, init, outputs) : forward_padded(tape, in, init, outputs);
}

namespace {

// Each part's state after each sequence's own last step: row b at step lengths[b]-1.
template <class T>
CellState<T> finals_at(const Unrolled<T>& u, const std::vector<int64_t>& last_rows, bool all_full) {
  if (all_full) return u.final;
  CellState<T> out;
  for (size_t k = 0; k < u.final.size(); ++k) {
    std::vector<Var<T>> steps;
    steps.reserve(u.states.size());
    for (const auto& s : u.states) steps.push_back(s[k]);
    out.push_back(gather_rows(concat_rows(steps), last_rows));
  }
  return out;
}

template <class T>
Var<T> hidden_rows(const Unrolled<T>& u) {  // every step's h, stacked: time-major rows
  std::vector<Var<T>> hs;
  hs.reserve(u.states.size());
  for (const auto& s : u.states) hs.push_back(s[0]);
  return hs.size() == 1 ? hs[0] : concat_rows(hs);
}

}  // namespace

template <class T>
RunnerOutput<T> SequenceRunner<T>::forward_padded(Tape<T>& tape, const RunnerInput<T>& in,
                                                  const std::vector<CellState<T>>& init, bool outputs) const {
  const Shape sx = in.x.shape();
  if (sx.rank != 3 || sx[0] < 1 || sx[1] < 1 || sx[2] != config_.input_dim)
    throw ShapeError("SequenceRunner::forward: padded input must be (batch >= 1, time >= 1, " +
                     std::to_string(config_.input_dim) + "), got " + sx.str());
  const int64_t B = sx[0], Tn = sx[1], D = config_.directions(), d = config_.hidden_dim;
  std::vector<int64_t> len = in.lengths;
  if (len.empty()) len.assign(static_cast<size_t>(B), Tn);
  if (static_cast<int64_t>(len.size()) != B)
    throw ShapeError("SequenceRunner::forward: " + std::to_string(len.size()) + " lengths for a batch of " + std::to_string(B));
  bool all_full = true;
  for (int64_t l : len) {
    if (l < 1 || l > Tn)
      throw UsageError("SequenceRunner::forward: sequence length " + std::to_string(l) + " outside [1, " +
                       std::to_string(Tn) + "]");
    all_full = all_full && l == Tn;
  }
  // Time-major row (t, b) is t·B + b. last: each sequence's last real row; rev: each sequence
  // reversed within its length (padding rows stay where they are), an involution.
  std::vector<int64_t> last(static_cast<size_t>(B)), rev;
  for (int64_t b = 0; b < B; ++b) last[static_cast<size_t>(b)] = (len[static_cast<size_t>(b)] - 1) * B + b;
  if (D == 2) {
    rev.resize(static_cast<size_t>(Tn * B));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < Tn; ++t) {
        const int64_t L = len[static_cast<size_t>(b)];
        rev[static_cast<size_t>(t * B + b)] = (t < L ? L - 1 - t : t) * B + b;
      }
  }
  RunnerOutput<T> out;
  out.directions = static_cast<int>(D);
  Var<T> cur = time_major(in.x);  // (T, B, F)
  tape.set_role(cur, "x");
  for (int64_t l = 0; l < config_.num_layers; ++l) {
    const bool need_rows = outputs || l + 1 < config_.num_layers;
    std::vector<Var<T>> dirs;
    for (int dir = 0; dir < D; ++dir) {
      const size_t k = static_cast<size_t>(l * D + dir);
      const int64_t F = cur.shape()[2];
      Var<T> x = dir == 0 ? cur : reshape(gather_rows(reshape(cur, Shape{Tn * B, F}), rev), Shape{Tn, B, F});
      Unrolled<T> u = unroll_dense(tape, *cells_[k], x, initial(tape, init, k, B, {}));
      out.final_states.push_back(finals_at(u, last, all_full));
      if (need_rows) dirs.push_back(dir == 0 ? hidden_rows(u) : gather_rows(hidden_rows(u), rev));
    }
    if (need_rows) cur = reshape(D == 1 ? dirs[0] : concat(dirs), Shape{Tn, B, D * d});
  }
  if (!outputs) return out;
  if (all_full) {
    out.output = time_major(cur);  // (T, B, W) -> (B, T, W)
  } else {  // batch-major, padding rows read a zero row
    const int64_t W = D * d;
    std::vector<int64_t> idx(static_cast<size_t>(B * Tn));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < Tn; ++t) idx[static_cast<size_t>(b * Tn + t)] = t < len[static_cast<size_t>(b)] ? t * B + b : Tn * B;
    Var<T> table = concat_rows<T>({reshape(cur, Shape{Tn * B, W}), tape.zeros(Shape{1, W})});
    out.output = reshape(gather_rows(table, idx), Shape{B, Tn, W});
  }
  return out;
}

template <class T>
RunnerOutput<T> SequenceRunner<T>::forward_packed(Tape<T>& tape, const RunnerInput<T>& in,
                                                  const std::vector<CellState<T>>& init, bool outputs) const {
  const int64_t total = check_batch_sizes(in.batch_sizes, "SequenceRunner::forward");
  const Shape sx = in.x.shape();
  if (sx.rank != 2 || sx[0] != total || sx[1] != config_.input_dim)
    throw ShapeError("SequenceRunner::forward: packed input must be (" + std::to_string(total) + ", " +
                     std::to_string(config_.input_dim) + ") for these batch_sizes, got " + sx.str());
  const int64_t B = in.batch_sizes[0], D = config_.directions();
  std::vector<int64_t> unsorted;
  if (!in.sorted_indices.empty()) {
    if (static_cast<int64_t>(in.sorted_indices.size()) != B)
      throw ShapeError("SequenceRunner::forward: " + std::to_string(in.sorted_indices.size()) +
                       " sorted_indices for a batch of " + std::to_string(B));
    unsorted.assign(static_cast<size_t>(B), -1);
    for (int64_t i = 0; i < B; ++i) {
      const int64_t b = in.sorted_indices[static_cast<size_t>(i)];
      if (b < 0 || b >= B || unsorted[static_cast<size_t>(b)] >= 0)
        throw UsageError("SequenceRunner::forward: sorted_indices is not a permutation of [0, " + std::to_string(B) + ")");
      unsorted[static_cast<size_t>(b)] = i;
    }
  }
  RunnerOutput<T> out;
  out.directions = static_cast<int>(D);
  Var<T> cur = in.x;
  for (int64_t l = 0; l < config_.num_layers; ++l) {
    const bool need_rows = outputs || l + 1 < config_.num_layers;
    std::vector<Var<T>> dirs;
    for (int dir = 0; dir < D; ++dir) {
      const size_t k = static_cast<size_t>(l * D + dir);
      Unrolled<T> u = unroll_packed(tape, *cells_[k], cur, in.batch_sizes, initial(tape, init, k, B, in.sorted_indices),
                                    dir == 1);
      CellState<T> fin = u.final;
      if (!unsorted.empty())
        for (Var<T>& v : fin) v = gather_rows(v, unsorted);
      out.final_states.push_back(fin);
      if (need_rows) dirs.push_back(hidden_rows(u));
    }
    if (need_rows) cur = D == 1 ? dirs[0] : concat(dirs);
  }
  if (outputs) out.output = cur;
  return out;
}

template struct RunnerOutput<float>;
template struct RunnerOutput<double>;
template class SequenceRunner<float>;
template class SequenceRunner<double>;

template <class T>
std::vector<CellState<T>> select_states(const std::vector<CellState<T>>& states, const std::vector<int64_t>& rows) {
  std::vector<CellState<T>> out;
  out.reserve(states.size());
  for (const CellState<T>& s : states) {
    CellState<T> p;
    for (const Var<T>& v : s) p.push_back(gather_rows(v, rows));
    out.push_back(p);
  }
  return out;
}

template std::vector<CellState<float>> select_states(const std::vector<CellState<float>>&, const std::vector<int64_t>&);
template std::vector<CellState<double>> select_states(const std::vector<CellState<double>>&, const std::vector<int64_t>&);

}  // namespace reel
