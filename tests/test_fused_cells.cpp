// The fused LSTM and GRU steps against the composed ops: the same records in the same order, values and
// every gradient equal to 1e-12 in double (padded and packed, 2 layers, both directions), and the
// fused op's backward against central finite differences.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "data/batching.h"
#include "framework/grad_check.h"
#include "framework/ops.h"
#include "models/sequence_runner.h"

using namespace reel;

namespace {

struct Run {
  std::vector<double> out, finals;
  std::vector<std::vector<double>> grads;
  std::vector<double> dx;
  std::vector<OpKind> kinds;
};

Run run(const char* cell, bool fusion, bool packed) {
  const int64_t B = 3, Tn = 5, F = 4, H = 5;
  const std::vector<int64_t> lengths{5, 2, 4};
  ParameterStore<double> store;
  Rng rng(31);
  RunnerConfig c;
  c.cell = cell;
  c.input_dim = F;
  c.hidden_dim = H;
  c.num_layers = 2;
  c.bidirectional = true;
  SequenceRunner<double> rnn(store, c, rng);
  Tape<double> tape;
  tape.set_fusion(fusion);
  Rng rx(32);
  std::vector<double> xv(static_cast<size_t>(B * Tn * F));
  for (double& v : xv) v = rx.normal();
  Var<double> X = tape.input(xv, Shape{B, Tn, F}, true);
  RunnerOutput<double> o;
  if (packed) {
    const PackInfo info = make_pack_info(lengths);
    std::vector<int64_t> rows;
    for (size_t t = 0; t < info.batch_sizes.size(); ++t)
      for (int64_t i = 0; i < info.batch_sizes[t]; ++i)
        rows.push_back(info.sorted_indices[static_cast<size_t>(i)] * Tn + static_cast<int64_t>(t));
    o = rnn.forward(tape, RunnerInput<double>::packed_rows(gather_rows(reshape(X, Shape{B * Tn, F}), rows),
                                                           info.batch_sizes, info.sorted_indices));
  } else {
    o = rnn.forward(tape, RunnerInput<double>::padded(X, lengths));
  }
  Var<double> loss = sum(mul(o.output, o.output));
  for (const auto& s : o.final_states)
    for (const auto& v : s) loss = add(loss, sum(mul(v, v)));
  tape.backward(loss);
  Run r;
  r.out = o.output.to_vector();
  for (const auto& s : o.final_states)
    for (const auto& v : s) {
      auto f = v.to_vector();
      r.finals.insert(r.finals.end(), f.begin(), f.end());
    }
  for (auto* p : store.all()) r.grads.push_back(p->grad);
  r.dx.assign(X.grad(), X.grad() + X.size());
  for (const auto& rec : tape.records()) r.kinds.push_back(rec.kind);
  return r;
}

GradCheckInput rnd(Shape s, uint64_t seed) {
  GradCheckInput in;
  in.shape = s;
  Rng r(seed);
  for (int64_t i = 0; i < s.size(); ++i) in.value.push_back(r.uniform() - 0.5);
  return in;
}

double worst(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double w = 0;
  for (size_t i = 0; i < a.size(); ++i) w = std::max(w, std::abs(a[i] - b[i]) / (1 + std::abs(b[i])));
  return w;
}

}  // namespace

TEST_CASE("the fused LSTM and GRU steps record the composed graph and equal it in double", "[fused][cells]") {
  for (const char* cell : {"lstm", "gru"})
  for (bool packed : {false, true}) {
    INFO(cell << (packed ? " packed" : " padded"));
    const Run fused = run(cell, true, packed), composed = run(cell, false, packed);
    CHECK(fused.kinds == composed.kinds);  // the same ops, in the same order
    CHECK(worst(fused.out, composed.out) < 1e-12);
    CHECK(worst(fused.finals, composed.finals) < 1e-12);
    CHECK(worst(fused.dx, composed.dx) < 1e-12);
    REQUIRE(fused.grads.size() == composed.grads.size());
    for (size_t k = 0; k < fused.grads.size(); ++k) CHECK(worst(fused.grads[k], composed.grads[k]) < 1e-12);
  }
}

TEST_CASE("gradcheck the fused lstm_cell", "[fused][gradcheck]") {
  // Two steps, so W gets two contributions and the second step reads the first's h and c.
  const auto f = [](Tape<double>&, const std::vector<Var<double>>& v) {
    auto s = lstm_cell(v[0], v[1], v[2], v[3]);
    s = lstm_cell(v[0], s[0], s[1], v[3]);
    return add(sum(mul(s[0], s[0])), sum(s[1]));
  };
  GradCheckResult r = grad_check<double>(f, {rnd({2, 12}, 1), rnd({2, 3}, 2), rnd({2, 3}, 3), rnd({3, 12}, 4)});
  INFO(r.worst);
  CHECK(r.ok);
  CHECK(r.max_abs_error < 1e-6);
  Tape<double> tape;
  Var<double> a = tape.zeros(Shape{2, 8}), h = tape.zeros(Shape{2, 3}), W = tape.zeros(Shape{3, 12});
  CHECK_THROWS_WITH(lstm_cell(a, h, h, W), Catch::Contains("lstm_cell") && Catch::Contains("(2, 8)"));
}

TEST_CASE("gradcheck the fused gru_cell", "[fused][gradcheck]") {
  const auto f = [](Tape<double>&, const std::vector<Var<double>>& v) {
    Var<double> h = gru_cell(v[0], v[1], v[2], v[3]);
    h = gru_cell(v[0], h, v[2], v[3]);
    return sum(mul(h, h));
  };
  GradCheckResult r = grad_check<double>(f, {rnd({2, 9}, 5), rnd({2, 3}, 6), rnd({3, 9}, 7), rnd({9}, 8)});
  INFO(r.worst);
  CHECK(r.ok);
  CHECK(r.max_abs_error < 1e-6);
}

TEST_CASE("linear is bias_add(matmul): the same records, values and gradients; gradcheck", "[fused][gradcheck]") {
  for (const Shape& sx : {Shape{5, 4}, Shape{3, 2, 4}}) {
    std::vector<std::vector<double>> grads[2];
    std::vector<double> out[2];
    std::vector<OpKind> kinds[2];
    for (int fused = 0; fused < 2; ++fused) {
      Tape<double> tape;
      const GradCheckInput x = rnd(sx, 21), W = rnd({4, 6}, 22), b = rnd({6}, 23);
      Var<double> vx = tape.input(x.value, sx, true), vW = tape.input(W.value, W.shape, true),
                  vb = tape.input(b.value, b.shape, true);
      Var<double> y = fused ? linear(vx, vW, vb) : bias_add(matmul(vx, vW), vb);
      tape.backward(sum(mul(y, y)));
      out[fused] = y.to_vector();
      for (const Var<double>* v : {&vx, &vW, &vb}) grads[fused].emplace_back(v->grad(), v->grad() + v->size());
      for (const auto& rec : tape.records()) kinds[fused].push_back(rec.kind);
    }
    CHECK(kinds[1] == kinds[0]);
    CHECK(worst(out[1], out[0]) < 1e-14);
    for (size_t i = 0; i < 3; ++i) CHECK(worst(grads[1][i], grads[0][i]) < 1e-14);
  }
  const auto f = [](Tape<double>&, const std::vector<Var<double>>& v) { return sum(mul(linear(v[0], v[1], v[2]), v[0])); };
  GradCheckResult r = grad_check<double>(f, {rnd({3, 4}, 24), rnd({4, 4}, 25), rnd({4}, 26)});
  INFO(r.worst);
  CHECK(r.ok);
  Tape<double> tape;
  Var<double> x = tape.zeros(Shape{2, 4}), W = tape.zeros(Shape{4, 3}), b = tape.zeros(Shape{4});
  CHECK_THROWS_WITH(linear(x, W, b), Catch::Contains("linear") && Catch::Contains("b (4)"));
}
