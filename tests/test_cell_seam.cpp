// The cell seam: any registered cell — the built-ins and a test-only one in its own file
// (tests/min_gru_cell.cpp) — gets padding, packing, layers and directions from SequenceRunner, and
// gradient checkpointing and truncated BPTT from the runner's stepwise form.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "data/batching.h"
#include "framework/memory/checkpointed.h"
#include "framework/memory/tbptt.h"
#include "framework/ops.h"
#include "models/cell_registry.h"
#include "models/memory_problems.h"
#include "models/sequence_runner.h"

using namespace reel;
using D = double;

namespace {

constexpr int64_t kB = 4, kT = 6, kF = 3, kH = 4;
const std::vector<int64_t> kLengths{6, 2, 5, 3};

std::vector<D> randv(size_t n, uint64_t seed) {
  Rng r(seed);
  std::vector<D> v(n);
  for (D& x : v) x = 2 * r.uniform() - 1;
  return v;
}

struct Setup {
  std::string cell;
  int64_t layers;
  bool bidir;
  RunnerConfig config() const {
    RunnerConfig c;
    c.cell = cell;
    c.input_dim = kF;
    c.hidden_dim = kH;
    c.num_layers = layers;
    c.bidirectional = bidir;
    return c;
  }
  std::string name() const { return cell + " x" + std::to_string(layers) + (bidir ? " bidirectional" : ""); }
};

// Initial states: n_states x parts tensors of (kB, kH), row b for sequence b.
std::vector<std::vector<std::vector<D>>> make_init(const SequenceRunner<D>& rnn, uint64_t seed) {
  const size_t n = static_cast<size_t>(rnn.config().num_layers * rnn.config().directions());
  std::vector<std::vector<std::vector<D>>> s(n);
  for (size_t k = 0; k < n; ++k)
    for (int p = 0; p < rnn.state_size(); ++p) s[k].push_back(randv(static_cast<size_t>(kB * kH), seed + 10 * k + p));
  return s;
}

// The rows of sequences `rows` of each initial state, on the tape.
std::vector<CellState<D>> init_on(Tape<D>& tape, const std::vector<std::vector<std::vector<D>>>& s,
                                  const std::vector<int64_t>& rows) {
  std::vector<CellState<D>> out;
  for (const auto& parts : s) {
    CellState<D> cs;
    for (const auto& v : parts) {
      std::vector<D> sel;
      for (int64_t b : rows) sel.insert(sel.end(), v.begin() + b * kH, v.begin() + (b + 1) * kH);
      cs.push_back(tape.input(sel, Shape{static_cast<int64_t>(rows.size()), kH}));
    }
    out.push_back(cs);
  }
  return out;
}

// L = Σ over real positions of output·R + Σ final states·Rf, for the sequences `rows`.
Var<D> loss_of(Tape<D>& tape, const Var<D>& out_rows, const std::vector<int64_t>& out_pos,
               const RunnerOutput<D>& out, const std::vector<int64_t>& rows, int64_t W) {
  const std::vector<D> R = randv(static_cast<size_t>(kB * kT * W), 7);
  std::vector<D> r;  // out_rows[i] is position out_pos[i] = b*kT + t
  for (int64_t p : out_pos) r.insert(r.end(), R.begin() + p * W, R.begin() + (p + 1) * W);
  Var<D> loss = sum(mul(out_rows, tape.input(r, out_rows.shape())));
  for (size_t k = 0; k < out.final_states.size(); ++k)
    for (size_t p = 0; p < out.final_states[k].size(); ++p) {
      const std::vector<D> Rf = randv(static_cast<size_t>(kB * kH), 100 + 10 * k + p);
      std::vector<D> sel;
      for (int64_t b : rows) sel.insert(sel.end(), Rf.begin() + b * kH, Rf.begin() + (b + 1) * kH);
      loss = add(loss, sum(mul(out.final_states[k][p], tape.input(sel, Shape{static_cast<int64_t>(rows.size()), kH}))));
    }
  return loss;
}

std::vector<std::vector<D>> grads(ParameterStore<D>& s) {
  std::vector<std::vector<D>> g;
  for (auto* p : s.all()) g.push_back(p->grad);
  return g;
}

double worst(const std::vector<std::vector<D>>& a, const std::vector<std::vector<D>>& b) {
  double w = 0;
  for (size_t k = 0; k < a.size(); ++k)
    for (size_t i = 0; i < a[k].size(); ++i) w = std::max(w, std::abs(a[k][i] - b[k][i]) / (1 + std::abs(b[k][i])));
  return w;
}

// Runs one layout; returns the loss, leaves the gradients in the store and in *dx (padded (B,T,F)).
D run_padded(const SequenceRunner<D>& rnn, const std::vector<D>& X, const std::vector<std::vector<std::vector<D>>>& s0,
             std::vector<D>* dx, std::vector<D>* out_values) {
  Tape<D> tape;
  const int64_t W = rnn.config().output_dim();
  Var<D> x = tape.input(X, Shape{kB, kT, kF}, true);
  std::vector<int64_t> all{0, 1, 2, 3}, pos;
  RunnerOutput<D> out = rnn.forward(tape, RunnerInput<D>::padded(x, kLengths), init_on(tape, s0, all));
  *out_values = out.output.to_vector();
  for (int64_t b = 0; b < kB; ++b)
    for (int64_t t = 0; t < kT; ++t) pos.push_back(b * kT + t);
  Var<D> rows = reshape(out.output, Shape{kB * kT, W});
  // only real positions enter the loss (padding rows are zero anyway)
  std::vector<int64_t> real;
  for (int64_t b = 0; b < kB; ++b)
    for (int64_t t = 0; t < kLengths[static_cast<size_t>(b)]; ++t) real.push_back(b * kT + t);
  Var<D> loss = loss_of(tape, gather_rows(rows, real), real, out, all, W);
  tape.backward(loss);
  *dx = std::vector<D>(x.grad(), x.grad() + X.size());
  return loss.item();
}

D run_packed(const SequenceRunner<D>& rnn, const std::vector<D>& X, const std::vector<std::vector<std::vector<D>>>& s0,
             std::vector<D>* dx) {
  Tape<D> tape;
  const int64_t W = rnn.config().output_dim();
  const PackInfo info = make_pack_info(kLengths);
  Var<D> x = tape.input(X, Shape{kB * kT, kF}, true);
  std::vector<int64_t> pos;  // packed row -> b*T + t
  for (size_t t = 0; t < info.batch_sizes.size(); ++t)
    for (int64_t i = 0; i < info.batch_sizes[t]; ++i) pos.push_back(info.sorted_indices[static_cast<size_t>(i)] * kT + static_cast<int64_t>(t));
  std::vector<int64_t> all{0, 1, 2, 3};
  RunnerOutput<D> out = rnn.forward(tape, RunnerInput<D>::packed_rows(gather_rows(x, pos), info.batch_sizes, info.sorted_indices),
                                    init_on(tape, s0, all));
  Var<D> loss = loss_of(tape, out.output, pos, out, all, W);
  tape.backward(loss);
  *dx = std::vector<D>(x.grad(), x.grad() + X.size());
  return loss.item();
}

// Each sequence alone (batch 1, its own length), losses summed, gradients accumulated.
D run_alone(const SequenceRunner<D>& rnn, const std::vector<D>& X, const std::vector<std::vector<std::vector<D>>>& s0,
            std::vector<D>* out_values) {
  const int64_t W = rnn.config().output_dim();
  D total = 0;
  out_values->assign(static_cast<size_t>(kB * kT * W), D(0));
  for (int64_t b = 0; b < kB; ++b) {
    Tape<D> tape;
    const int64_t L = kLengths[static_cast<size_t>(b)];
    std::vector<D> xb(X.begin() + b * kT * kF, X.begin() + (b * kT + L) * kF);
    RunnerOutput<D> out = rnn.forward(tape, RunnerInput<D>::padded(tape.input(xb, Shape{1, L, kF})), init_on(tape, s0, {b}));
    std::copy_n(out.output.data(), L * W, out_values->begin() + b * kT * W);
    std::vector<int64_t> pos;
    for (int64_t t = 0; t < L; ++t) pos.push_back(b * kT + t);
    Var<D> loss = loss_of(tape, reshape(out.output, Shape{L, W}), pos, out, {b}, W);
    tape.backward(loss);
    total += loss.item();
  }
  return total;
}

}  // namespace

TEST_CASE("cells are made by name; an unknown or taken name is a clear error", "[cells]") {
  const auto names = cell_types();
  for (const char* n : {"rnn", "lstm", "gru", "mingru"}) CHECK(std::find(names.begin(), names.end(), n) != names.end());
  ParameterStore<float> store;
  Rng rng(1);
  CellConfig c;
  c.type = "nope";
  c.input_dim = 2;
  c.hidden_dim = 3;
  CHECK_THROWS_WITH(make_cell(store, c, rng, "x"), Catch::Contains("unknown cell 'nope'") && Catch::Contains("lstm"));
  CHECK_THROWS_WITH(register_cell("lstm", nullptr, nullptr), Catch::Contains("already registered"));
  c.type = "gru";
  auto gru = make_cell(store, c, rng, "g");
  CHECK(gru->projection_dim() == 9);
  {  // the step equation on a raw input is the step on its projection
    Tape<float> tape;
    Var<float> x = tape.input(std::vector<float>{0.5f, -1.0f, 0.25f, 2.0f}, Shape{2, 2});
    const auto s0 = gru->zero_state(tape, 2);
    const auto a = gru->step_input(tape, x, s0)[0].to_vector();
    const auto b = gru->step(tape, gru->project(tape, x), s0, nullptr)[0].to_vector();
    CHECK(a == b);
  }
  CHECK(store.at("g.b_x").shape == Shape{9});
  RunnerConfig rc;
  rc.cell = "lstm";
  rc.input_dim = 2;
  rc.hidden_dim = 3;
  rc.num_layers = 0;
  CHECK_THROWS_WITH(SequenceRunner<float>(store, rc, rng), Catch::Contains("num_layers"));
}

TEST_CASE("every cell, layers and directions: padded == packed == each sequence alone", "[cells][runner]") {
  const std::vector<D> X = randv(static_cast<size_t>(kB * kT * kF), 3);
  for (const char* cell : {"rnn", "lstm", "gru", "mingru"})
    for (int64_t layers : {1, 2})
      for (bool bidir : {false, true}) {
        const Setup s{cell, layers, bidir};
        INFO(s.name());
        ParameterStore<D> store;
        Rng rng(5);
        SequenceRunner<D> rnn(store, s.config(), rng);
        const auto s0 = make_init(rnn, 9);
        std::vector<D> dx_pad, dx_pack, out_pad, out_alone;
        const D l_pad = run_padded(rnn, X, s0, &dx_pad, &out_pad);
        const auto g_pad = grads(store);
        store.zero_grad();
        const D l_pack = run_packed(rnn, X, s0, &dx_pack);
        const auto g_pack = grads(store);
        store.zero_grad();
        const D l_alone = run_alone(rnn, X, s0, &out_alone);
        const auto g_alone = grads(store);
        CHECK(l_pad == Approx(l_pack).epsilon(1e-12));
        CHECK(l_pad == Approx(l_alone).epsilon(1e-12));
        CHECK(worst(g_pad, g_pack) < 1e-12);
        CHECK(worst(g_pad, g_alone) < 1e-12);
        CHECK(worst({dx_pad}, {dx_pack}) < 1e-12);
        CHECK(worst({out_pad}, {out_alone}) < 1e-12);  // padding rows are 0 in both
        for (int64_t b = 0; b < kB; ++b)  // padding never reaches the loss
          for (int64_t t = kLengths[static_cast<size_t>(b)]; t < kT; ++t)
            for (int64_t f = 0; f < kF; ++f) CHECK(dx_pad[static_cast<size_t>((b * kT + t) * kF + f)] == 0);
      }
}

TEST_CASE("a cell from its own file gets checkpointing and truncated BPTT, bitwise full BPTT", "[cells][memory]") {
  SequenceBatch<float> batch;
  batch.batch = 3;
  batch.max_len = 9;
  batch.features = kF;
  batch.lengths = {9, 4, 7};
  Rng r(21);
  batch.values.resize(static_cast<size_t>(3 * 9 * kF));
  for (float& v : batch.values) v = static_cast<float>(2 * r.uniform() - 1);
  std::vector<int64_t> tags(27);
  for (auto& t : tags) t = static_cast<int64_t>(r.below(3));
  SequenceModelConfig c;
  c.kind = "tagger";
  c.input_dim = kF;
  c.hidden_dim = kH;
  c.num_classes = 3;
  c.cell = "mingru";
  c.num_layers = 2;
  ParameterStore<float> store;
  Rng rng(22);
  SequenceTagger<float> model(store, c, rng);
  const memory::SequenceProblem<float> p = memory::tagger_problem(model, batch, tags);
  Tape<float> tape;
  tape.set_retain_grads(true);
  Var<float> full = memory::record_full(tape, p);
  tape.backward(full);
  const float full_loss = full.item();
  const auto want = [&] {
    std::vector<std::vector<float>> g;
    for (auto* q : store.all()) g.push_back(q->grad);
    return g;
  }();
  const memory::MemoryModel m = memory::memory_model(p);
  CHECK(tape.stats().peak_bytes == m.full_bptt());  // measured without a line written for the cell
  auto same = [&] {
    auto all = store.all();
    for (size_t k = 0; k < all.size(); ++k)
      if (std::memcmp(all[k]->grad.data(), want[k].data(), want[k].size() * sizeof(float)) != 0) return false;
    return true;
  };
  memory::CheckpointedBPTT<float> exact(true);
  for (const memory::Plan& plan : {memory::plan_uniform(m), memory::plan_binomial(m, 1, 1)}) {
    INFO(plan.describe());
    store.zero_grad();
    const memory::RunStats st = exact.run(tape, p, plan);
    const float got = static_cast<float>(st.loss);
    CHECK(std::memcmp(&got, &full_loss, sizeof(float)) == 0);
    CHECK(same());
    CHECK(st.peak_bytes == plan.peak_bytes);
  }
  memory::TruncatedBPTT<float> tb(p, {9, 0});
  store.zero_grad();
  tape.clear();
  Var<float> loss = tb.record_window(tape);
  tape.backward(loss);
  CHECK(same());
}
