// The fused recurrence: the same graph as the op-by-op one (records, gradients), values within
// rounding, and the intermediates it does not keep refuse to be read.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "framework/ops.h"
#include "models/vanilla_rnn.h"

using namespace reel;

namespace {

struct Result {
  std::vector<double> h;                  // every hidden state
  std::vector<std::vector<double>> grads;  // every parameter's
  std::vector<double> dx;
  TapeStats stats;
};

Result run(bool fusion, const std::string& act, bool packed, int64_t B = 3) {
  const int64_t Tn = 7, I = 4, H = 6;
  ParameterStore<double> store;
  Rng rng(11);
  RNNConfig c;
  c.input_dim = I;
  c.hidden_dim = H;
  c.output_dim = 2;
  c.activation = act;
  VanillaRNN<double> rnn(store, c, rng);
  for (auto& v : rnn.b_h.value) v = 0.05;
  Tape<double> tape;
  tape.set_fusion(fusion);
  std::vector<double> xv(static_cast<size_t>(B * Tn * I));
  Rng rx(12);
  for (auto& v : xv) v = rx.normal();
  typename VanillaRNN<double>::Sequence seq;
  Var<double> X;
  if (packed) {  // lengths 7, 5, 2 packed time-major
    const std::vector<int64_t> bs{3, 3, 2, 2, 2, 1, 1};
    X = tape.input(std::vector<double>(xv.begin(), xv.begin() + 14 * I), Shape{14, I}, true);
    seq = rnn.forward_packed(tape, X, bs);
  } else {
    X = tape.input(xv, Shape{B, Tn, I}, true);
    seq = rnn.forward_sequence(tape, X);
  }
  std::vector<Var<double>> terms;
  for (const auto& y : seq.outputs) terms.push_back(sum(mul(y, y)));
  Var<double> loss = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) loss = add(loss, terms[i]);
  tape.backward(loss);
  Result r;
  for (const auto& h : seq.hidden_states) {
    auto v = h.to_vector();
    r.h.insert(r.h.end(), v.begin(), v.end());
  }
  for (const auto* p : store.all()) r.grads.push_back(p->grad);
  r.dx.assign(X.grad(), X.grad() + X.size());
  r.stats = tape.stats();
  return r;
}

void close(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-12).margin(1e-14));
}

}  // namespace

TEST_CASE("the fused recurrence records the op-by-op graph and matches its numbers", "[rnn][fused]") {
  for (const char* act : {"tanh", "relu"})
    for (bool packed : {false, true}) {
      INFO(act << (packed ? " packed" : " padded"));
      const Result fused = run(true, act, packed), plain = run(false, act, packed);
      CHECK(fused.stats.records == plain.stats.records);
      CHECK(fused.stats.records_by_kind == plain.stats.records_by_kind);
      CHECK(fused.stats.nodes == plain.stats.nodes);
      CHECK(fused.stats.value_bytes < plain.stats.value_bytes);  // m, s, z are not kept
      close(fused.h, plain.h);
      close(fused.dx, plain.dx);
      REQUIRE(fused.grads.size() == plain.grads.size());
      for (size_t k = 0; k < fused.grads.size(); ++k) close(fused.grads[k], plain.grads[k]);
    }
}

TEST_CASE("at batch >= 64 the fused sequence keeps per-step weight gradients, same numbers", "[rnn][fused]") {
  // forward_sequence defers W_hh's gradient to one GEMM only below batch 64.
  const Result fused = run(true, "tanh", false, 64), plain = run(false, "tanh", false, 64);
  close(fused.h, plain.h);
  for (size_t k = 0; k < fused.grads.size(); ++k) close(fused.grads[k], plain.grads[k]);
}

TEST_CASE("a fused op's intermediate refuses to be read, naming the way to keep it", "[rnn][fused]") {
  Tape<float> tape;
  Var<float> a = tape.input(std::vector<float>(6, 0.1f), Shape{2, 3});
  Var<float> h = tape.input(std::vector<float>(4, 0.2f), Shape{2, 2});
  Var<float> W = tape.input(std::vector<float>(6, 0.3f), Shape{2, 3}, true);
  Var<float> b = tape.input(std::vector<float>(3, 0.4f), Shape{3});
  Var<float> y = rnn_cell(a, h, W, b, OpKind::Tanh);
  CHECK(y.data()[0] == Approx(std::tanh(0.1f + 0.4f + 2 * 0.2f * 0.3f)));
  const auto& recs = tape.records();
  REQUIRE(recs.size() == 4);
  CHECK(recs[0].kind == OpKind::MatMul);
  CHECK(recs[1].kind == OpKind::Add);
  CHECK(recs[2].kind == OpKind::BiasAdd);
  CHECK(recs[3].kind == OpKind::Tanh);
  Var<float> m(&tape, recs[0].out, y.generation());
  try {
    m.data();
    FAIL("reading a fused intermediate did not throw");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("fused") != std::string::npos);
  }
  CHECK_THROWS_AS(rnn_cell(a, h, b, b, OpKind::Tanh), ShapeError);
  CHECK_THROWS_AS(rnn_cell(a, h, W, b, OpKind::Sigmoid), UsageError);
}

TEST_CASE("the deferring projection refuses to run without a record to defer to", "[rnn][fused]") {
  Tape<float> tape;
  Var<float> X = tape.input(std::vector<float>(2 * 3 * 4, 0.1f), Shape{2, 3, 4});
  Var<float> Wx = tape.input(std::vector<float>(4 * 5, 0.1f), Shape{4, 5});
  Var<float> Wh = tape.input(std::vector<float>(5 * 5, 0.1f), Shape{5, 5}, true);
  Var<float> h0 = tape.zeros(Shape{3, 5});
  std::vector<float> H(2 * 3 * 5);
  CHECK_THROWS_AS(detail::rnn_projection(X, Wx, Wh, h0, H.data()), UsageError);
}
