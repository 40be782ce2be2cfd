// The tape: steady-state reuse, stale handles, inference mode, statistics, backward's contract.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "framework/ops.h"
#include "models/vanilla_rnn.h"
#include "rnn_test_util.h"

using namespace reel;

namespace {

using testing::config;
using testing::randv;

size_t count(const TapeStats& s, OpKind k) { return s.records_by_kind[static_cast<size_t>(k)]; }

}  // namespace

TEST_CASE("a reused tape stops growing after the first iteration", "[tape]") {
  using T = float;
  const int64_t B = 4, Tn = 8, I = 3, H = 16, O = 5;
  ParameterStore<T> store;
  Rng rng(1);
  VanillaRNN<T> rnn(store, config(I, H, O), rng);
  const auto x = randv<T>(static_cast<size_t>(B * Tn * I), 2);
  std::vector<int64_t> targets(static_cast<size_t>(B * Tn));
  for (size_t i = 0; i < targets.size(); ++i) targets[i] = static_cast<int64_t>(i % O);

  Tape<T> tape;
  std::vector<TapeStats> stats;
  std::vector<T> losses;
  for (int it = 0; it < 100; ++it) {
    tape.clear();
    Var<T> X = tape.input(x, Shape{B, Tn, I});
    auto seq = rnn.forward_sequence(tape, X);
    Var<T> loss = cross_entropy(stack_time(seq.outputs), targets);
    tape.backward(loss);
    stats.push_back(tape.stats());
    losses.push_back(loss.item());
    for (Parameter<T>* p : store.all())  // a plain SGD step: values change, sizes do not
      for (size_t i = 0; i < p->value.size(); ++i) p->value[i] -= T(0.05) * p->grad[i];
    store.zero_grad();
  }
  const TapeStats& s1 = stats[1];
  CHECK(s1.records > 0);
  CHECK(s1.capacity_bytes > 0);
  CHECK(s1.capacity_bytes >= s1.value_bytes + s1.grad_bytes);
  INFO("iteration 1 capacity " << stats[0].capacity_bytes << ", iteration 2 " << s1.capacity_bytes);
  CHECK(stats[0].capacity_bytes <= s1.capacity_bytes);
  for (size_t it = 2; it < stats.size(); ++it) {
    INFO("iteration " << it + 1);
    REQUIRE(stats[it].capacity_bytes == s1.capacity_bytes);
    REQUIRE(stats[it].records == s1.records);
    REQUIRE(stats[it].nodes == s1.nodes);
    REQUIRE(stats[it].value_bytes == s1.value_bytes);
    REQUIRE(stats[it].saved_bytes == s1.saved_bytes);
    REQUIRE(stats[it].peak_bytes == s1.peak_bytes);
  }
  CHECK(losses.back() < losses.front());  // the values really changed between iterations
}

TEST_CASE("a Var from before clear() is stale and throws UsageError", "[tape]") {
  Tape<double> tape;
  Var<double> a = tape.input(std::vector<double>{1, 2, 3}, Shape{3}, true);
  Var<double> y = sum(a);
  tape.backward(y);
  REQUIRE(a.grad() != nullptr);
  tape.clear();
  CHECK(tape.num_nodes() == 0);
  CHECK(tape.num_records() == 0);
  CHECK_THROWS_AS(a.data(), UsageError);
  CHECK_THROWS_WITH(a.data(), Catch::Contains("stale"));
  CHECK_THROWS_AS(a.shape(), UsageError);
  CHECK_THROWS_AS(a.grad(), UsageError);
  CHECK_THROWS_AS(y.item(), UsageError);
  CHECK_THROWS_AS(tape.backward(y), UsageError);
  // In an op: the op's name is in the message. A fresh Var with the same id does not make it valid.
  Var<double> b = tape.input(std::vector<double>{4, 5, 6}, Shape{3});
  REQUIRE(b.id() == a.id());
  CHECK_THROWS_AS(add(a, b), UsageError);
  CHECK_THROWS_WITH(add(b, a), Catch::Contains("add") && Catch::Contains("stale"));
  CHECK(b.data()[2] == 6);
  // A Var of another tape and an empty Var are usage errors too.
  Tape<double> other;
  Var<double> c = other.input(std::vector<double>{1, 1, 1}, Shape{3});
  CHECK_THROWS_WITH(add(b, c), Catch::Contains("another tape"));
  CHECK_THROWS_AS(tanh(Var<double>()), UsageError);
}

TEST_CASE("inference mode records nothing and computes the same values", "[tape]") {
  using T = double;
  const int64_t B = 3, Tn = 6, I = 4, H = 5, O = 3;
  ParameterStore<T> store;
  Rng rng(3);
  VanillaRNN<T> rnn(store, config(I, H, O), rng);
  const auto x = randv<T>(static_cast<size_t>(B * Tn * I), 4);

  Tape<T> tape;
  auto train = rnn.forward_sequence(tape, tape.input(x, Shape{B, Tn, I}));
  const std::vector<T> y_train = stack_time(train.outputs).to_vector();
  CHECK(tape.num_records() > 0);

  Tape<T> inf;
  {
    NoGradGuard<T> guard(inf);
    CHECK_FALSE(inf.grad_enabled());
    auto seq = rnn.forward_sequence(inf, inf.input(x, Shape{B, Tn, I}));
    Var<T> Y = stack_time(seq.outputs);
    CHECK(Y.to_vector() == y_train);  // bitwise: the same kernels ran
    CHECK_FALSE(Y.requires_grad());
    CHECK(inf.num_records() == 0);
    const TapeStats s = inf.stats();
    CHECK(s.records == 0);
    CHECK(s.saved_bytes == 0);
    CHECK(s.nodes > 0);  // values were computed
    // Nothing to differentiate.
    CHECK_THROWS_AS(inf.backward(sum(Y)), UsageError);
  }
  CHECK(inf.grad_enabled());  // the guard restores grad mode
  for (Parameter<T>* p : store.all())
    for (T g : p->grad) REQUIRE(g == 0);
}

TEST_CASE("stats() counts the records of a T-step forward by kind", "[tape]") {
  using T = double;
  const int64_t B = 2, I = 3, H = 4;
  for (int64_t Tn : {1, 5, 9}) {
    INFO("T = " << Tn);
    const auto x = randv<T>(static_cast<size_t>(B * Tn * I), 5);
    {  // no output layer: one input projection (+ its time-major reshape) + per step slice_rows, matmul (memory), add, bias_add, tanh
      ParameterStore<T> store;
      Rng rng(6);
      VanillaRNN<T> rnn(store, config(I, H, 0), rng);
      Tape<T> tape;
      rnn.forward_sequence(tape, tape.input(x, Shape{B, Tn, I}));
      const TapeStats s = tape.stats();
      CHECK(count(s, OpKind::MatMul) == static_cast<size_t>(Tn + 1));
      CHECK(count(s, OpKind::Tanh) == static_cast<size_t>(Tn));
      CHECK(count(s, OpKind::Add) == static_cast<size_t>(Tn));
      CHECK(count(s, OpKind::BiasAdd) == static_cast<size_t>(Tn));
      CHECK(count(s, OpKind::SliceRows) == static_cast<size_t>(Tn));
      CHECK(count(s, OpKind::Reshape) == 1);
      CHECK(count(s, OpKind::Relu) == 0);
      CHECK(s.records == static_cast<size_t>(5 * Tn + 2));
      size_t total = 0;
      for (size_t k : s.records_by_kind) total += k;
      CHECK(total == s.records);
      CHECK(s.records == tape.num_records());
      CHECK(count(s, OpKind::Input) == 0);  // leaves are nodes, not records
      CHECK(count(s, OpKind::Param) == 0);
    }
    {  // relu, with an output layer and a loss: 2T+1 matmuls, 2T bias_adds, then stack, mul, sum
      ParameterStore<T> store;
      Rng rng(7);
      VanillaRNN<T> rnn(store, config(I, H, 2, "relu"), rng);
      Tape<T> tape;
      auto seq = rnn.forward_sequence(tape, tape.input(x, Shape{B, Tn, I}));
      Var<T> Y = stack_time(seq.outputs);
      const Shape ys = Y.shape();  // a copy: Tape::input reads its shape after growing the node list
      sum(mul(Y, tape.input(randv<T>(static_cast<size_t>(Y.size()), 8), ys)));
      const TapeStats s = tape.stats();
      CHECK(count(s, OpKind::MatMul) == static_cast<size_t>(2 * Tn + 1));
      CHECK(count(s, OpKind::BiasAdd) == static_cast<size_t>(2 * Tn));
      CHECK(count(s, OpKind::Relu) == static_cast<size_t>(Tn));
      CHECK(count(s, OpKind::Tanh) == 0);
      CHECK(count(s, OpKind::Stack) == 1);
      CHECK(count(s, OpKind::Mul) == 1);
      CHECK(count(s, OpKind::Sum) == 1);
      CHECK(s.records == static_cast<size_t>(7 * Tn + 5));
    }
  }
}

TEST_CASE("saved_bytes is positive and grows linearly in T", "[tape]") {
  using T = float;
  const int64_t B = 3, I = 4, H = 7;
  ParameterStore<T> store;
  Rng rng(9);
  VanillaRNN<T> rnn(store, config(I, H, 0), rng);
  std::vector<size_t> saved;
  Tape<T> tape;
  for (int64_t Tn = 1; Tn <= 8; ++Tn) {
    tape.clear();
    const auto x = randv<T>(static_cast<size_t>(B * Tn * I), 10);
    rnn.forward_sequence(tape, tape.input(x, Shape{B, Tn, I}));
    const TapeStats s = tape.stats();
    size_t by_kind = 0;
    for (size_t v : s.saved_bytes_by_kind) by_kind += v;
    CHECK(by_kind == s.saved_bytes);
    CHECK(s.saved_bytes_by_kind[static_cast<size_t>(OpKind::Tanh)] > 0);
    saved.push_back(s.saved_bytes);
  }
  CHECK(saved[0] > 0);
  const size_t per_step = saved[1] - saved[0];
  INFO("saved bytes for T = 1..8: " << saved[0] << " + " << per_step << " per step");
  // At least each step's activation output (B×H) must be kept for the backward.
  CHECK(per_step >= static_cast<size_t>(B * H) * sizeof(T));
  for (size_t t = 1; t < saved.size(); ++t) CHECK(saved[t] - saved[t - 1] == per_step);
}

TEST_CASE("backward: a non-scalar root needs a seed", "[tape]") {
  Tape<double> tape;
  Var<double> x = tape.input(std::vector<double>{1, 2, 3, 4}, Shape{2, 2}, true);
  Var<double> y = tanh(x);
  CHECK_THROWS_AS(tape.backward(y), ShapeError);
  CHECK_THROWS_WITH(tape.backward(y), Catch::Contains("(2, 2)"));
  CHECK(x.grad() == nullptr);  // the failed call did nothing
  const std::vector<double> seed{1, 0, 0, 2};
  tape.backward(y, seed.data(), /*retain_graph=*/true);  // sum(y) below runs through tanh again
  REQUIRE(x.grad() != nullptr);
  for (int i = 0; i < 4; ++i) {
    const double t = std::tanh(static_cast<double>(i + 1));
    CHECK(x.grad()[i] == Approx(seed[static_cast<size_t>(i)] * (1 - t * t)).epsilon(1e-14));
  }
  // A scalar root works without one (accumulating: the seed was 0 at [1]); a root that depends on
  // nothing trainable is a usage error.
  tape.backward(sum(y));
  CHECK(x.grad()[1] == Approx(1 - std::tanh(2.0) * std::tanh(2.0)).epsilon(1e-14));
  Var<double> c = tape.input(std::vector<double>{5}, Shape{1});
  CHECK_THROWS_AS(tape.backward(c), UsageError);
}

TEST_CASE("A second backward over one recording: an error naming retain_graph, or accumulation into every leaf", "[tape]") {
  ParameterStore<double> store;
  Parameter<double>& w = store.add("w", Shape{2});
  w.value = {0.5, -1.5};
  for (bool retain : {false, true}) {
    INFO("retain_graph " << retain);
    store.zero_grad();
    Tape<double> tape;
    Var<double> x = tape.input(std::vector<double>{1, 2}, Shape{2}, true);
    Var<double> loss = sum(mul(mul(x, x), tape.param(w)));  // d/dx = 2 x w, d/dw = x^2
    tape.backward(loss, retain);
    const std::vector<double> gx1(x.grad(), x.grad() + 2), gw1 = w.grad;
    CHECK(gx1 == std::vector<double>{1.0, -6.0});
    CHECK(gw1 == std::vector<double>{1.0, 4.0});
    if (!retain) {
      CHECK_THROWS_WITH(tape.backward(loss), Catch::Contains("retain_graph"));
      CHECK(std::vector<double>(x.grad(), x.grad() + 2) == gx1);  // nothing changed: no reset, no doubling
      CHECK(w.grad == gw1);
    } else {
      tape.backward(loss);  // PyTorch: both the input's and the parameter's gradients double
      CHECK(std::vector<double>(x.grad(), x.grad() + 2) == std::vector<double>{2.0, -12.0});
      CHECK(w.grad == std::vector<double>{2.0, 8.0});
      CHECK_THROWS_WITH(tape.backward(loss), Catch::Contains("already backpropagated"));  // not retained this time
    }
    tape.clear();  // a new recording may be backpropagated again
    Var<double> x2 = tape.input(std::vector<double>{1, 2}, Shape{2}, true);
    tape.backward(sum(mul(x2, tape.param(w))));
    CHECK(std::vector<double>(x2.grad(), x2.grad() + 2) == w.value);
  }
}

TEST_CASE("Forwards under no-grad without clear() warn once that the tape keeps growing", "[tape]") {
  Tape<float> tape;
  tape.set_inference_warn_bytes(1 << 20);  // 1 MiB for the test (1 GiB by default)
  const std::vector<float> x(64 * 64, 1.0f);
  {
    NoGradGuard<float> no_grad(tape);
    for (int i = 0; i < 200; ++i) tanh(tape.input(x, Shape{64, 64}));  // 200 x 2 x 16 KiB, never cleared
  }
  CHECK(tape.num_records() == 0);
  CHECK(tape.warned_inference_growth());
  // Clearing between batches, as for_each_batch_no_grad does, never warns.
  Tape<float> tidy;
  tidy.set_inference_warn_bytes(1 << 20);
  NoGradGuard<float> no_grad(tidy);
  for (int i = 0; i < 200; ++i) {
    tidy.clear();
    tanh(tidy.input(x, Shape{64, 64}));
  }
  CHECK_FALSE(tidy.warned_inference_growth());
}
