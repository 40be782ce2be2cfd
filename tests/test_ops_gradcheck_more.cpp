// The issue-11 ops (exp, log, reciprocal, div, softmax with a mask, dropout, reverse_time, bmm)
// against central finite differences in double, their forward values and errors; and sampling
// (argmax_rows, sample_rows, top_k).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <set>

#include "framework/grad_check.h"
#include "tests/gradcheck_util.h"
#include "framework/graph_dot.h"
#include "framework/ops.h"
#include "framework/sampling.h"

using namespace reel;
using reel::testing::D;
using reel::testing::expect_ok;
using reel::testing::Fn;
using reel::testing::rand_input;

namespace {


// op(x) used twice, so x's gradient is written fresh by one backward and accumulated by the other.
template <class Op>
Fn twice(Op op) {
  return [=](Tape<D>&, const std::vector<Var<D>>& x) { return add(op(x[0]), scale(op(x[0]), 0.5)); };
}

// The records on a tape, by kind
size_t count(const Tape<D>& tape, OpKind k) { return tape.stats().records_by_kind[static_cast<size_t>(k)]; }

}  // namespace

// ---- elementwise

TEST_CASE("exp log reciprocal div: values, kinds and names", "[ops][ops11]") {
  Tape<D> tape;
  Var<D> a = tape.input(std::vector<D>{0.5, 1, 2, 4}, Shape{2, 2}, true);
  Var<D> b = tape.input(std::vector<D>{2, -1, 0.25, 8}, Shape{2, 2}, true);
  Var<D> e = exp(a), l = log(a), r = reciprocal(b), q = div(a, b);
  for (int i = 0; i < 4; ++i) {
    CHECK(e.data()[i] == std::exp(a.data()[i]));
    CHECK(l.data()[i] == std::log(a.data()[i]));
    CHECK(r.data()[i] == 1.0 / b.data()[i]);
    CHECK(q.data()[i] == a.data()[i] / b.data()[i]);
  }
  CHECK(count(tape, OpKind::Exp) == 1);
  CHECK(count(tape, OpKind::Log) == 1);
  CHECK(count(tape, OpKind::Reciprocal) == 1);
  CHECK(count(tape, OpKind::Div) == 1);
  CHECK(std::string(op_name(OpKind::Exp)) == "exp");
  CHECK(std::string(op_name(OpKind::Log)) == "log");
  CHECK(std::string(op_name(OpKind::Reciprocal)) == "reciprocal");
  CHECK(std::string(op_name(OpKind::Div)) == "div");
  CHECK(std::string(op_name(OpKind::Softmax)) == "softmax");
  CHECK(std::string(op_name(OpKind::Dropout)) == "dropout");
  CHECK(std::string(op_name(OpKind::ReverseTime)) == "reverse_time");
  CHECK(std::string(op_name(OpKind::BatchMatMul)) == "bmm");
  CHECK(std::string(op_name(OpKind::Custom)) == "custom");
  // log of 0 and of a negative number: what std::log gives, no throw
  Var<D> z = log(tape.input(std::vector<D>{0, -1}, Shape{2}));
  CHECK(std::isinf(z.data()[0]));
  CHECK(z.data()[0] < 0);
  CHECK(std::isnan(z.data()[1]));
  Var<D> c = tape.zeros(Shape{4});
  CHECK_THROWS_WITH(div(a, c), Catch::Contains("div") && Catch::Contains("(2, 2)") && Catch::Contains("(4)"));
  CHECK_THROWS_AS(div(a, c), ShapeError);
}

TEST_CASE("gradcheck exp log reciprocal div", "[ops][gradcheck][ops11]") {
  auto x = rand_input({3, 4}, 101, -2.0, 2.0);
  auto pos = rand_input({3, 4}, 102, 0.5, 2.0);
  auto pos2 = rand_input({3, 4}, 103, 0.5, 2.0);
  auto neg = rand_input({3, 4}, 104, -2.0, -0.5);
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return exp(v[0]); }, {x});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return log(v[0]); }, {pos});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return reciprocal(v[0]); }, {pos});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return reciprocal(v[0]); }, {neg});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return div(v[0], v[1]); }, {x, pos});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return div(v[0], v[1]); }, {pos2, neg});
  // one input on both sides (a/a = 1: the two contributions cancel) and used twice
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return div(v[0], v[0]); }, {pos});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return mul(div(v[0], v[1]), v[1]); }, {x, pos});
  expect_ok(twice([](const Var<D>& v) { return exp(v); }), {x});
  expect_ok(twice([](const Var<D>& v) { return log(v); }), {pos});
  expect_ok(twice([](const Var<D>& v) { return reciprocal(v); }), {pos});
  // chained, so the gradient buffers are moved from node to node
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return log(exp(reciprocal(v[0]))); }, {pos});
}

// ---- softmax

TEST_CASE("softmax: rows sum to 1, large logits stay finite, values match the definition", "[ops][ops11]") {
  Tape<D> tape;
  Var<D> x = tape.input(std::vector<D>{1000, 1001, 999, 0, 0, 0}, Shape{2, 3});
  Var<D> y = softmax(x);
  const D* p = y.data();
  const D z = std::exp(-1.0) + 1 + std::exp(-2.0);
  CHECK(p[0] == Approx(std::exp(-1.0) / z).epsilon(1e-14));
  CHECK(p[1] == Approx(1 / z).epsilon(1e-14));
  CHECK(p[2] == Approx(std::exp(-2.0) / z).epsilon(1e-14));
  for (int j = 3; j < 6; ++j) CHECK(p[j] == Approx(1.0 / 3).epsilon(1e-15));
  CHECK(p[0] + p[1] + p[2] == Approx(1).epsilon(1e-15));
  // softmax = exp(log_softmax)
  Var<D> x3 = tape.input(rand_input({2, 2, 5}, 105, -3, 3).value, Shape{2, 2, 5});
  Var<D> s3 = softmax(x3), ls3 = log_softmax(x3);
  for (int i = 0; i < 20; ++i) CHECK(s3.data()[i] == Approx(std::exp(ls3.data()[i])).epsilon(1e-13));
}

TEST_CASE("softmax with a mask: masked entries exactly 0, no gradient, errors", "[ops][ops11]") {
  Tape<D> tape;
  const D nan = std::numeric_limits<D>::quiet_NaN();
  // masked entries are never read: NaN or +inf there changes nothing (masked_fill(-inf) semantics)
  Var<D> x = tape.input(std::vector<D>{0.5, nan, -1, 2, std::numeric_limits<D>::infinity(), 1}, Shape{2, 3}, true);
  std::vector<D> mask{1, 0, 1, 0, 0, 1};
  Var<D> y = softmax(x, mask);
  const D* p = y.data();
  CHECK(p[1] == 0.0);
  CHECK(p[3] == 0.0);
  CHECK(p[4] == 0.0);
  CHECK(p[5] == 1.0);  // the only kept entry of its row
  const D z = std::exp(0.0) + std::exp(-1.5);
  CHECK(p[0] == Approx(1 / z).epsilon(1e-15));
  CHECK(p[2] == Approx(std::exp(-1.5) / z).epsilon(1e-15));
  // an output gradient that is huge (even inf) at the masked entries leaves them without gradient
  const D inf = std::numeric_limits<D>::infinity();
  std::vector<D> seed{1, inf, 3, inf, -inf, 2};
  tape.backward(y, seed.data());
  const D* g = x.grad();
  REQUIRE(g);
  CHECK(g[1] == 0.0);
  CHECK(g[3] == 0.0);
  CHECK(g[4] == 0.0);
  CHECK(g[5] == 0.0);  // a one-entry distribution does not move
  CHECK(std::isfinite(g[0]));
  CHECK(g[0] == Approx(p[0] * (1 - (p[0] * 1 + p[2] * 3))).epsilon(1e-14));
  CHECK(g[0] + g[2] == Approx(0).margin(1e-15));

  tape.clear();
  Var<D> v = tape.zeros(Shape{3, 2}, true);
  CHECK_THROWS_AS(softmax(v, std::vector<D>{1, 1, 1}), ShapeError);
  CHECK_THROWS_WITH(softmax(v, std::vector<D>{1, 1, 1}), Catch::Contains("softmax") && Catch::Contains("(3, 2)"));
  const size_t nodes = tape.num_nodes();
  CHECK_THROWS_AS(softmax(v, std::vector<D>{1, 0, 0, 0, 0, 1}), UsageError);
  CHECK_THROWS_WITH(softmax(v, std::vector<D>{1, 0, 0, 0, 0, 1}), Catch::Contains("row 1"));
  CHECK_THROWS_WITH(softmax(v, std::vector<D>{1, 0, 0.5, 1, 0, 1}), Catch::Contains("0 or 1"));
  CHECK(tape.num_nodes() == nodes);  // a rejected mask makes nothing
  CHECK_THROWS_AS(softmax(tape.zeros(Shape{2, 0})), ShapeError);
}

TEST_CASE("gradcheck softmax, plain and masked", "[ops][gradcheck][ops11]") {
  auto x = rand_input({3, 5}, 106, -2.0, 2.0);
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return softmax(v[0]); }, {x});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return softmax(v[0]); }, {rand_input({2, 3, 4}, 107, -2, 2)});
  const std::vector<D> mask{1, 0, 1, 1, 0,   //
                            0, 0, 0, 1, 0,   // one kept entry
                            1, 1, 1, 1, 1};  // none masked
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& v) { return softmax(v[0], mask); }, {x});
  expect_ok(twice([=](const Var<D>& v) { return softmax(v, mask); }), {x});
  // the attention pattern: weights from a masked softmax times values
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& v) { return matmul(softmax(v[0], mask), v[1]); },
            {x, rand_input({5, 2}, 108)});
}

// ---- bmm

TEST_CASE("bmm: values against a naive loop, all transposes; shape errors", "[ops][ops11]") {
  const int64_t B = 2, M = 3, K = 4, N = 5;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      Tape<D> tape;
      Shape sa = ta ? Shape{B, K, M} : Shape{B, M, K};
      Shape sb = tb ? Shape{B, N, K} : Shape{B, K, N};
      Var<D> a = tape.input(rand_input(sa, 110).value, sa), b = tape.input(rand_input(sb, 111).value, sb);
      Var<D> y = bmm(a, b, ta, tb);
      REQUIRE(y.shape() == Shape{B, M, N});
      for (int64_t i = 0; i < B; ++i)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            D s = 0;
            for (int64_t k = 0; k < K; ++k) {
              const D av = ta ? a.data()[(i * K + k) * M + m] : a.data()[(i * M + m) * K + k];
              const D bv = tb ? b.data()[(i * N + n) * K + k] : b.data()[(i * K + k) * N + n];
              s += av * bv;
            }
            CHECK(y.data()[(i * M + m) * N + n] == Approx(s).epsilon(1e-13));
          }
    }
  Tape<D> tape;
  Var<D> a = tape.zeros(Shape{2, 3, 4}), b = tape.zeros(Shape{3, 4, 5}), c = tape.zeros(Shape{2, 5, 4});
  CHECK_THROWS_WITH(bmm(a, b), Catch::Contains("bmm") && Catch::Contains("batch") && Catch::Contains("(3, 4, 5)"));
  CHECK_THROWS_WITH(bmm(a, c), Catch::Contains("inner dimensions"));
  CHECK_THROWS_AS(bmm(a, tape.zeros(Shape{4, 5})), ShapeError);
  CHECK(bmm(a, c, false, true).shape() == Shape{2, 3, 5});
  // a zero-size inner dimension: an empty sum
  Var<D> y0 = bmm(tape.zeros(Shape{2, 3, 0}), tape.zeros(Shape{2, 0, 2}));
  REQUIRE(y0.shape() == Shape{2, 3, 2});
  for (int i = 0; i < 12; ++i) CHECK(y0.data()[i] == 0.0);
}

TEST_CASE("gradcheck bmm, all transpose variants", "[ops][gradcheck][ops11]") {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      INFO("trans_a " << ta << " trans_b " << tb);
      Shape sa = ta ? Shape{3, 4, 2} : Shape{3, 2, 4};
      Shape sb = tb ? Shape{3, 5, 4} : Shape{3, 4, 5};
      expect_ok([=](Tape<D>&, const std::vector<Var<D>>& x) { return bmm(x[0], x[1], ta, tb); },
                {rand_input(sa, 112 + static_cast<uint64_t>(2 * ta + tb)), rand_input(sb, 120)});
    }
  // one operand on both sides (a·aᵀ): both gradients land in one buffer
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return bmm(x[0], x[0], false, true); },
            {rand_input({2, 3, 4}, 121)});
  expect_ok(twice([](const Var<D>& v) { return bmm(v, v, true, false); }), {rand_input({2, 3, 3}, 122)});
}

// ---- reverse_time

TEST_CASE("reverse_time: values with unequal lengths, padding untouched, its own inverse", "[ops][ops11]") {
  Tape<D> tape;
  const int64_t B = 3, Tn = 4, F = 2;
  std::vector<D> v(static_cast<size_t>(B * Tn * F));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<D>(i);
  Var<D> x = tape.input(v, Shape{B, Tn, F});
  const std::vector<int64_t> lengths{4, 2, 0};
  Var<D> y = reverse_time(x, lengths);
  auto at = [&](const Var<D>& u, int64_t b, int64_t t, int64_t f) { return u.data()[(b * Tn + t) * F + f]; };
  for (int64_t f = 0; f < F; ++f) {
    for (int64_t t = 0; t < 4; ++t) CHECK(at(y, 0, t, f) == at(x, 0, 3 - t, f));
    CHECK(at(y, 1, 0, f) == at(x, 1, 1, f));
    CHECK(at(y, 1, 1, f) == at(x, 1, 0, f));
    CHECK(at(y, 1, 2, f) == at(x, 1, 2, f));  // padding as it is
    CHECK(at(y, 1, 3, f) == at(x, 1, 3, f));
    for (int64_t t = 0; t < 4; ++t) CHECK(at(y, 2, t, f) == at(x, 2, t, f));  // length 0: all padding
  }
  CHECK(reverse_time(y, lengths).to_vector() == v);
  // no lengths: every sequence full
  Var<D> full = reverse_time(x);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < Tn; ++t) CHECK(at(full, b, t, 1) == at(x, b, Tn - 1 - t, 1));
  CHECK(count(tape, OpKind::ReverseTime) == 0);  // x needs no gradient: nothing recorded
  CHECK_THROWS_AS(reverse_time(x, {4, 2}), ShapeError);
  CHECK_THROWS_AS(reverse_time(x, {4, 5, 0}), ShapeError);
  CHECK_THROWS_WITH(reverse_time(x, {4, -1, 0}), Catch::Contains("reverse_time") && Catch::Contains("sequence 1"));
  CHECK_THROWS_AS(reverse_time(tape.zeros(Shape{3, 4})), ShapeError);
}

TEST_CASE("gradcheck reverse_time with unequal lengths", "[ops][gradcheck][ops11]") {
  auto x = rand_input({4, 5, 3}, 130);
  const std::vector<int64_t> lengths{5, 3, 1, 0};
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& v) { return reverse_time(v[0], lengths); }, {x});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& v) { return reverse_time(v[0]); }, {x});
  expect_ok(twice([=](const Var<D>& v) { return reverse_time(v, lengths); }), {x});
  // through a nonlinearity, so the permutation of the gradient matters
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& v) { return mul(reverse_time(tanh(v[0]), lengths), v[1]); },
            {x, rand_input({4, 5, 3}, 131)});
}

// ---- dropout

TEST_CASE("dropout: values are 0 or x/(1-p), mask from the rng, identity without training", "[ops][ops11]") {
  Tape<D> tape;
  const int64_t n = 20000;
  std::vector<D> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = 0.5 + static_cast<D>(i % 7);  // never 0
  Var<D> x = tape.input(v, Shape{200, 100}, true);
  const double p = 0.3;
  Rng rng(42);
  Var<D> y = dropout(x, p, rng, true);
  CHECK(y.id() != x.id());
  CHECK(count(tape, OpKind::Dropout) == 1);
  Rng replay(42);  // the mask: element i kept iff the i-th uniform >= p
  int64_t dropped = 0;
  bool all_match = true;
  for (int64_t i = 0; i < n; ++i) {
    const D yi = y.data()[i];
    const bool keep = replay.uniform() >= p;
    const bool ok = keep ? yi == Approx(v[static_cast<size_t>(i)] / (1 - p)).epsilon(1e-15) : yi == 0.0;
    all_match = all_match && ok;
    dropped += yi == 0.0;
  }
  CHECK(all_match);
  CHECK(rng.state() == replay.state());  // exactly one draw per element
  CHECK(static_cast<double>(dropped) / n == Approx(p).margin(0.02));
  // gradient: dy/(1-p) where kept, 0 where dropped
  tape.backward(sum(y));
  const D* g = x.grad();
  REQUIRE(g);
  bool grads_match = true;
  for (int64_t i = 0; i < n; ++i)
    grads_match = grads_match && (y.data()[i] == 0.0 ? g[i] == 0.0 : g[i] == Approx(1 / (1 - p)).epsilon(1e-15));
  CHECK(grads_match);

  tape.clear();
  x = tape.input(v, Shape{200, 100}, true);
  const auto before = rng.state();
  CHECK(dropout(x, p, rng, false).id() == x.id());  // eval: the same node
  CHECK(dropout(x, 0.0, rng, true).id() == x.id());  // p = 0: the same node
  CHECK(rng.state() == before);  // nothing drawn
  CHECK(tape.num_records() == 0);  // nothing recorded
  CHECK_THROWS_AS(dropout(x, 1.0, rng, true), UsageError);
  CHECK_THROWS_AS(dropout(x, -0.1, rng, false), UsageError);
  CHECK_THROWS_WITH(dropout(x, std::nan(""), rng, true), Catch::Contains("dropout") && Catch::Contains("[0, 1)"));
}

TEST_CASE("dropout: the same seed gives the same mask, another seed another", "[ops][ops11]") {
  Tape<float> tape;
  std::vector<float> v(1000, 1.0f);
  Var<float> x = tape.input(v, Shape{10, 100});
  Rng r1(7), r2(7), r3(8);
  const std::vector<float> a = dropout(x, 0.5, r1, true).to_vector();
  const std::vector<float> b = dropout(x, 0.5, r2, true).to_vector();
  const std::vector<float> c = dropout(x, 0.5, r3, true).to_vector();
  CHECK(a == b);
  CHECK(a != c);
  for (float e : a) CHECK((e == 0.0f || e == 2.0f));
  // the stream continues: a second call draws a new mask
  CHECK(dropout(x, 0.5, r1, true).to_vector() != a);
}

TEST_CASE("gradcheck dropout with a fixed rng", "[ops][gradcheck][ops11]") {
  auto x = rand_input({4, 6}, 140, -2, 2);
  for (double p : {0.25, 0.6}) {
    INFO("p " << p);
    expect_ok([=](Tape<D>&, const std::vector<Var<D>>& v) {
                Rng rng(99);  // a fresh stream per evaluation: the same mask every time
                return dropout(v[0], p, rng, true);
              },
              {x});
    expect_ok([=](Tape<D>&, const std::vector<Var<D>>& v) {
                Rng rng(5);
                return mul(dropout(tanh(v[0]), p, rng, true), dropout(v[0], p, rng, true));  // two masks
              },
              {x});
  }
}

// ---- names

TEST_CASE("every OpKind has its own name; the graph export prints the new ones", "[ops][ops11]") {
  std::set<std::string> names;
  for (int k = 0; k < kNumOpKinds; ++k) {
    const std::string name = op_name(static_cast<OpKind>(k));
    INFO("kind " << k);
    CHECK(name != "?");
    CHECK(names.insert(name).second);  // distinct
  }
  CHECK(std::string(op_name(OpKind::kCount)) == "?");
  Tape<D> tape;
  Var<D> a = tape.input(rand_input({2, 2, 3}, 170, 0.5, 2).value, Shape{2, 2, 3}, true);
  Rng rng(1);
  Var<D> y = bmm(reverse_time(dropout(softmax(div(log(exp(a)), reciprocal(a))), 0.5, rng, true)), a, false, true);
  (void)y;
  const std::string dot = to_dot(tape);
  INFO(dot);
  for (const char* op : {"exp", "log", "reciprocal", "div", "softmax", "dropout", "reverse_time", "bmm"}) {
    INFO(op);
    CHECK(dot.find("[label=\"" + std::string(op) + "\\n") != std::string::npos);  // the node's first line
  }
}

// ---- grad mode

TEST_CASE("the new ops record nothing under NoGradGuard and compute the same values", "[ops][ops11]") {
  Tape<D> tape;
  Var<D> a = tape.input(rand_input({2, 3, 4}, 150, 0.5, 2).value, Shape{2, 3, 4}, true);
  Var<D> b = tape.input(rand_input({2, 4, 3}, 151, 0.5, 2).value, Shape{2, 4, 3}, true);
  const std::vector<D> mask(24, 1.0);
  auto run = [&]() {
    Rng rng(3);
    std::vector<Var<D>> out{exp(a), log(a), reciprocal(a), div(a, a), softmax(a, mask), dropout(a, 0.5, rng, true),
                            reverse_time(a, {3, 1}), bmm(a, b)};
    return out;
  };
  std::vector<Var<D>> with = run();
  CHECK(tape.num_records() == with.size());
  for (const Var<D>& v : with) CHECK(v.requires_grad());
  NoGradGuard<D> guard(tape);
  const size_t records = tape.num_records();
  std::vector<Var<D>> without = run();
  CHECK(tape.num_records() == records);
  for (size_t i = 0; i < with.size(); ++i) {
    INFO("op " << i);
    CHECK(!without[i].requires_grad());
    CHECK(without[i].to_vector() == with[i].to_vector());
  }
}

// ---- sampling

TEST_CASE("argmax_rows: ties go to the lowest index; NaN and bad sizes throw", "[sampling][ops11]") {
  const float ninf = -std::numeric_limits<float>::infinity();
  const std::vector<float> s{1, 3, 3, 2,  //
                             5, 5, 5, 5,  //
                             ninf, ninf, ninf, ninf,  //
                             -1, -3, -0.5f, ninf};
  CHECK(argmax_rows(s.data(), 4, 4) == std::vector<int64_t>{1, 0, 0, 2});
  CHECK(argmax_rows(s.data(), 0, 4).empty());
  const std::vector<double> bad{0, 1, 2, std::nan(""), 0, 0};
  CHECK_THROWS_AS(argmax_rows(bad.data(), 2, 3), UsageError);
  CHECK_THROWS_WITH(argmax_rows(bad.data(), 2, 3), Catch::Contains("row 1"));
  CHECK_THROWS_AS(argmax_rows(s.data(), 1, 0), UsageError);
  CHECK_THROWS_AS(argmax_rows(s.data(), -1, 4), UsageError);
}

TEST_CASE("top_k: largest first, ties by lower index, k outside [1, n] throws", "[sampling][ops11]") {
  const std::vector<double> s{0.5, 2, -1, 2, 7, 0.5};
  const auto t = top_k(s.data(), 6, 4);
  REQUIRE(t.size() == 4);
  CHECK(t[0] == std::make_pair(int64_t{4}, 7.0));
  CHECK(t[1] == std::make_pair(int64_t{1}, 2.0));
  CHECK(t[2] == std::make_pair(int64_t{3}, 2.0));
  CHECK(t[3] == std::make_pair(int64_t{0}, 0.5));
  const auto all = top_k(s.data(), 6, 6);
  CHECK(all.back() == std::make_pair(int64_t{2}, -1.0));
  CHECK(top_k(s.data(), 6, 1)[0].first == argmax_rows(s.data(), 1, 6)[0]);
  CHECK_THROWS_AS(top_k(s.data(), 6, 0), UsageError);
  CHECK_THROWS_AS(top_k(s.data(), 6, 7), UsageError);
}

TEST_CASE("sample_rows: reproducible from the seed, one uniform per row", "[sampling][ops11]") {
  const int64_t rows = 50, cols = 7;
  std::vector<float> logits = [] {
    auto in = rand_input({50, 7}, 160, -2, 2);
    return std::vector<float>(in.value.begin(), in.value.end());
  }();
  for (SamplingOptions opt : {SamplingOptions{}, SamplingOptions{0.7, 3}, SamplingOptions{1.5, 1}}) {
    INFO("temperature " << opt.temperature << " top_k " << opt.top_k);
    Rng a(11), b(11), c(12);
    const auto da = sample_rows(logits.data(), rows, cols, a, opt);
    CHECK(da == sample_rows(logits.data(), rows, cols, b, opt));
    Rng counted(11);
    for (int64_t i = 0; i < rows; ++i) counted.uniform();
    CHECK(a.state() == counted.state());
    for (int64_t d : da) CHECK((d >= 0 && d < cols));
    if (opt.top_k != 1) CHECK(da != sample_rows(logits.data(), rows, cols, c, opt));
  }
}

TEST_CASE("sample_rows: top_k = 1 is argmax, and a small temperature approaches it", "[sampling][ops11]") {
  const int64_t rows = 400, cols = 9;
  std::vector<double> logits = rand_input({400, 9}, 161, -3, 3).value;
  for (int64_t i = 0; i < rows; i += 10) logits[static_cast<size_t>(i * cols + 8)] = logits[static_cast<size_t>(i * cols + 2)] = 5;  // ties
  const auto best = argmax_rows(logits.data(), rows, cols);
  Rng rng(1);
  CHECK(sample_rows(logits.data(), rows, cols, rng, {1.0, 1}) == best);
  CHECK(sample_rows(logits.data(), rows, cols, rng, {100.0, 1}) == best);
  // agreement with argmax rises as the temperature falls; rows without ties reach it
  std::vector<double> distinct = rand_input({400, 9}, 162, -3, 3).value;
  const auto best_d = argmax_rows(distinct.data(), rows, cols);
  auto agree = [&](double temperature) {
    const auto s = sample_rows(distinct.data(), rows, cols, rng, {temperature, 0});
    int64_t same = 0;
    for (int64_t i = 0; i < rows; ++i) same += s[static_cast<size_t>(i)] == best_d[static_cast<size_t>(i)];
    return same;
  };
  const int64_t at1 = agree(1.0), at01 = agree(0.1), at0001 = agree(1e-6);
  CHECK(at1 < at01);
  CHECK(at01 <= at0001);
  CHECK(at0001 == rows);
}

TEST_CASE("sample_rows: empirical frequencies of a known 3-way distribution", "[sampling][ops11]") {
  const int64_t draws = 20000;
  const std::vector<double> probs{0.2, 0.5, 0.3};
  std::vector<float> logits;
  for (int64_t i = 0; i < draws; ++i)
    for (double q : probs) logits.push_back(static_cast<float>(std::log(q) + 1.25));  // any shift
  auto freqs = [&](const SamplingOptions& opt, uint64_t seed) {
    Rng rng(seed);
    const auto s = sample_rows(logits.data(), draws, 3, rng, opt);
    std::vector<double> f(3, 0.0);
    for (int64_t d : s) f[static_cast<size_t>(d)] += 1.0 / draws;
    return f;
  };
  const auto f = freqs({}, 2024);
  for (size_t j = 0; j < 3; ++j) CHECK(f[j] == Approx(probs[j]).margin(0.02));
  // temperature 2: p ∝ sqrt(probs)
  const auto f2 = freqs({2.0, 0}, 2025);
  double z = 0;
  for (double q : probs) z += std::sqrt(q);
  for (size_t j = 0; j < 3; ++j) CHECK(f2[j] == Approx(std::sqrt(probs[j]) / z).margin(0.02));
  // top_k = 2 excludes the smallest entry entirely and renormalises the others
  const auto f3 = freqs({1.0, 2}, 2026);
  CHECK(f3[0] == 0.0);
  CHECK(f3[1] == Approx(0.5 / 0.8).margin(0.02));
  CHECK(f3[2] == Approx(0.3 / 0.8).margin(0.02));
}

TEST_CASE("sample_rows: -inf is never drawn; top_k excludes the rest", "[sampling][ops11]") {
  const double ninf = -std::numeric_limits<double>::infinity();
  const std::vector<double> row{ninf, 0.1, ninf, 0.0, -0.1, 0.05};
  std::vector<double> logits;
  for (int i = 0; i < 3000; ++i) logits.insert(logits.end(), row.begin(), row.end());
  Rng rng(9);
  const auto s = sample_rows(logits.data(), 3000, 6, rng, {1.0, 3});  // top 3: indices 1, 5, 3
  std::vector<int64_t> seen(6, 0);
  for (int64_t d : s) ++seen[static_cast<size_t>(d)];
  CHECK(seen[0] == 0);
  CHECK(seen[2] == 0);
  CHECK(seen[4] == 0);  // outside the top 3
  CHECK(seen[1] > 0);
  CHECK(seen[3] > 0);
  CHECK(seen[5] > 0);
  const auto all = sample_rows(logits.data(), 3000, 6, rng);
  for (int64_t d : all) CHECK((d != 0 && d != 2));
}

TEST_CASE("sample_rows: bad options and rows throw UsageError before any draw", "[sampling][ops11]") {
  const std::vector<float> l{0, 1, 2, 3, 4, 5};
  const float ninf = -std::numeric_limits<float>::infinity();
  Rng rng(1);
  const auto st = rng.state();
  CHECK_THROWS_AS(sample_rows(l.data(), 2, 3, rng, {0.0, 0}), UsageError);
  CHECK_THROWS_AS(sample_rows(l.data(), 2, 3, rng, {-1.0, 0}), UsageError);
  CHECK_THROWS_WITH(sample_rows(l.data(), 2, 3, rng, {std::nan(""), 0}), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(sample_rows(l.data(), 2, 3, rng, {1.0, 4}), Catch::Contains("top_k"));
  CHECK_THROWS_AS(sample_rows(l.data(), 2, 3, rng, {1.0, -1}), UsageError);
  CHECK_THROWS_AS(sample_rows(l.data(), 2, 0, rng), UsageError);
  const std::vector<float> no_finite{0, 1, 2, ninf, ninf, ninf};
  CHECK_THROWS_WITH(sample_rows(no_finite.data(), 2, 3, rng), Catch::Contains("row 1"));
  const std::vector<float> with_nan{0, std::nanf(""), 2, 1, 1, 1};
  CHECK_THROWS_WITH(sample_rows(with_nan.data(), 2, 3, rng), Catch::Contains("NaN") && Catch::Contains("row 0"));
  CHECK(rng.state() == st);  // nothing drawn
  CHECK(sample_rows(l.data(), 2, 3, rng, {1.0, 3}).size() == 2);  // top_k = cols is allowed
}
