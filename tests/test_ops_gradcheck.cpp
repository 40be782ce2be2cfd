// Every op's backward against central finite differences in double precision.
#include <catch2/catch.hpp>

#include "framework/grad_check.h"
#include "tests/gradcheck_util.h"
#include "framework/ops.h"

using namespace reel;
using reel::testing::D;
using reel::testing::expect_ok;
using reel::testing::Fn;
using reel::testing::rand_input;


TEST_CASE("gradcheck matmul, all transpose variants", "[ops][gradcheck]") {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      Shape sa = ta ? Shape{4, 3} : Shape{3, 4};
      Shape sb = tb ? Shape{5, 4} : Shape{4, 5};
      expect_ok([=](Tape<D>&, const std::vector<Var<D>>& x) { return matmul(x[0], x[1], ta, tb); },
                {rand_input(sa, 1), rand_input(sb, 2)});
    }
}

TEST_CASE("gradcheck matmul with a rank-3 left operand", "[ops][gradcheck]") {
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return matmul(x[0], x[1]); },
            {rand_input({2, 3, 4}, 3), rand_input({4, 5}, 4)});
}

TEST_CASE("gradcheck add sub mul scale", "[ops][gradcheck]") {
  auto a = rand_input({3, 4}, 5), b = rand_input({3, 4}, 6);
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return add(x[0], x[1]); }, {a, b});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return sub(x[0], x[1]); }, {a, b});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return mul(x[0], x[1]); }, {a, b});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return mul(x[0], x[0]); }, {a});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return scale(x[0], -2.5); }, {a});
}

TEST_CASE("gradcheck bias_add over rank 2 and 3", "[ops][gradcheck]") {
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return bias_add(x[0], x[1]); },
            {rand_input({3, 4}, 7), rand_input({4}, 8)});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return bias_add(x[0], x[1]); },
            {rand_input({2, 3, 4}, 9), rand_input({4}, 10)});
}

TEST_CASE("gradcheck tanh relu sigmoid", "[ops][gradcheck]") {
  auto a = rand_input({3, 5}, 11, -2.0, 2.0);
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return tanh(x[0]); }, {a});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return sigmoid(x[0]); }, {a});
  // relu away from its kink: shift values off 0
  for (auto& v : a.value) v += v >= 0 ? 0.1 : -0.1;
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return relu(x[0]); }, {a});
}

TEST_CASE("gradcheck sum mean log_softmax", "[ops][gradcheck]") {
  auto a = rand_input({3, 5}, 12, -2.0, 2.0);
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return sum(x[0]); }, {a});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return mean(x[0]); }, {a});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return log_softmax(x[0]); }, {a});
}

TEST_CASE("gradcheck cross_entropy, plain and masked", "[ops][gradcheck]") {
  auto logits = rand_input({4, 5}, 13, -2.0, 2.0);
  std::vector<int64_t> targets{0, 4, 2, 2};
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& x) { return cross_entropy(x[0], targets); }, {logits});
  std::vector<D> mask{1, 0, 1, 1};
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& x) { return cross_entropy(x[0], targets, mask); },
            {logits});
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& x) { return cross_entropy(x[0], targets, mask); },
            {rand_input({2, 2, 5}, 14)});
}

TEST_CASE("gradcheck mse", "[ops][gradcheck]") {
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return mse(x[0], x[1]); },
            {rand_input({3, 4}, 15), rand_input({3, 4}, 16)});
}

TEST_CASE("gradcheck select_time slice_rows gather_rows", "[ops][gradcheck]") {
  auto a = rand_input({2, 3, 4}, 17);
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return select_time(x[0], 1); }, {a});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return slice_rows(x[0], 1, 3); },
            {rand_input({4, 3}, 18)});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return gather_rows(x[0], {2, 0, 2, 3}); },
            {rand_input({4, 3}, 19)});
}

TEST_CASE("gradcheck stack_time and concat", "[ops][gradcheck]") {
  auto a = rand_input({2, 3}, 20), b = rand_input({2, 3}, 21), c = rand_input({2, 2}, 22);
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return stack_time<D>({x[0], x[1], x[0]}); },
            {a, b});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return concat<D>({x[0], x[1]}); }, {a, c});
}

TEST_CASE("gradcheck slice_cols, alone and as gates sharing one input", "[ops][gradcheck]") {
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return slice_cols(x[0], 1, 3); }, {rand_input({3, 5}, 40)});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return slice_cols(x[0], 2, 4); }, {rand_input({2, 3, 4}, 41)});
  // Two overlapping slices of one input: both contributions reach it.
  expect_ok(
      [](Tape<D>&, const std::vector<Var<D>>& x) { return mul(sigmoid(slice_cols(x[0], 0, 3)), tanh(slice_cols(x[0], 2, 5))); },
      {rand_input({2, 6}, 42)});
  Tape<D> tape;
  Var<D> v = tape.zeros(Shape{2, 4});
  CHECK_THROWS_WITH(slice_cols(v, 3, 5), Catch::Contains("columns [3, 5)") && Catch::Contains("(2, 4)"));
  CHECK_THROWS_AS(slice_cols(v, 2, 2), ShapeError);
}

TEST_CASE("gradcheck embedding with repeated ids", "[ops][gradcheck]") {
  std::vector<int64_t> ids{1, 3, 1, 0, 1, 2};
  expect_ok([=](Tape<D>&, const std::vector<Var<D>>& x) { return embedding(x[0], ids, Shape{2, 3}); },
            {rand_input({4, 3}, 23)});
}

TEST_CASE("gradcheck a composition: the vanilla RNN cell", "[ops][gradcheck]") {
  // h1 = tanh(x W_xh + h0 W_hh + b); h2 uses h1: W_hh gets two contributions.
  expect_ok(
      [](Tape<D>&, const std::vector<Var<D>>& v) {
        Var<D> h = v[3];
        for (int t = 0; t < 2; ++t)
          h = tanh(bias_add(add(matmul(v[0], v[1]), matmul(h, v[2])), v[4]));
        return h;
      },
      {rand_input({2, 3}, 24), rand_input({3, 4}, 25), rand_input({4, 4}, 26), rand_input({2, 4}, 27),
       rand_input({4}, 28)});
}

TEST_CASE("detach cuts the gradient", "[ops]") {
  Tape<D> tape;
  Var<D> x = tape.input(std::vector<D>{1, 2, 3}, Shape{3}, true);
  Var<D> y = mul(x, detach(x));  // d/dx = x (not 2x)
  tape.backward(sum(y));
  const D* g = x.grad();
  REQUIRE(g);
  CHECK(g[0] == 1);
  CHECK(g[1] == 2);
  CHECK(g[2] == 3);
}

TEST_CASE("gradcheck concat_rows and reshape", "[ops][gradcheck]") {
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return concat_rows<D>({x[0], x[1], x[0]}); },
            {rand_input({2, 3}, 29), rand_input({1, 3}, 30)});
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return reshape(x[0], Shape{3, 4}); },
            {rand_input({2, 3, 2}, 31)});
}

TEST_CASE("gradcheck time_major", "[ops][gradcheck]") {
  expect_ok([](Tape<D>&, const std::vector<Var<D>>& x) { return time_major(x[0]); }, {rand_input({2, 3, 4}, 32)});
}

TEST_CASE("gradcheck the fused rnn_cell (tanh and relu)", "[ops][gradcheck]") {
  for (OpKind act : {OpKind::Tanh, OpKind::Relu}) {
    INFO(op_name(act));
    expect_ok([=](Tape<D>&, const std::vector<Var<D>>& x) { return rnn_cell(x[0], x[1], x[2], x[3], act); },
              {rand_input(Shape{3, 4}, 31), rand_input(Shape{3, 5}, 32), rand_input(Shape{5, 4}, 33),
               rand_input(Shape{4}, 34)});
  }
}
