// reel's VanillaRNN against PyTorch (torch.nn.RNN + nn.Linear on every hidden state), from the
// fixtures tools/make_fixtures.py wrote to tests/fixtures/rnn/ (committed: no torch needed here).
//
// For every fixture: the same weights, X and h0 go through VanillaRNN<T>::forward_sequence
// (T = double for *_f64, float for *_f32), the same loss is built with reel ops, and every hidden
// state, output, the loss, every parameter gradient, dL/dX and dL/dh0 must agree with PyTorch.
//
// Error measure, per element i of a tensor ref (got: reel's value):
//     err_i = |got_i - ref_i| / max(|ref_i|, floor),   floor = max(1e-6, 1e-2 * max_j |ref_j|)
// i.e. relative to the element itself, except that elements more than 100x smaller than the
// tensor's largest (a gradient entry that is a near-cancelling sum over 50 steps, the vanishing
// gradient of a long sequence's first inputs) are measured against 1/100 of that largest element:
// in float32 such entries carry rounding error of ~1e-7 of the tensor's scale on both sides
// (reel's and PyTorch's), which is no evidence of a bug. Required: max_i err_i <= 1e-5 in float64
// and <= 1e-4 in float32. Observed when written (OpenBLAS, x86-64): max err 1.6e-14 in float64,
// 9.2e-6 in float32; with no floor (plain element-relative error) 1.0e-12 and 5.2e-4; relative to
// each tensor's max-abs 1.3e-15 and 7.2e-7. Set REEL_FIXTURE_REPORT=1 to print them per case.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "fixture_io.h"
#include "framework/ops.h"
#include "models/vanilla_rnn.h"

using namespace reel;

namespace {

const std::string kFixtureDir = std::string(REEL_SOURCE_DIR) + "/tests/fixtures/rnn";

struct ErrStats {
  double max_err = 0;      // the measure above
  std::string worst;       // where it happened
  int64_t compared = 0;    // elements compared
};

double rel_floor(const fixture::Tensor& ref) {
  double mx = 0;
  for (double v : ref.values) mx = std::max(mx, std::abs(v));
  return std::max(1e-6, 1e-2 * mx);
}

// Compares n values of got with fixture tensor `ref` (whose dims must be `dims`). Fails the test
// if the error exceeds tol, naming the tensor and element.
template <class T>
double compare(const fixture::Fixture& fx, const std::string& name, const std::vector<int64_t>& dims,
               const T* got, int64_t n, double tol, ErrStats& stats) {
  const fixture::Tensor& ref = fx.at(name, dims);
  REQUIRE(ref.size() == n);
  REQUIRE(got != nullptr);
  const double floor = rel_floor(ref);
  double worst = 0;
  int64_t worst_i = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double r = ref.values[static_cast<size_t>(i)];
    const double g = static_cast<double>(got[i]);
    const double e = std::isfinite(g) ? std::abs(g - r) / std::max(std::abs(r), floor) : HUGE_VAL;
    if (e > worst || (i == 0 && e >= worst)) {
      worst = e;
      worst_i = i;
    }
  }
  stats.compared += n;
  if (worst > stats.max_err) {
    stats.max_err = worst;
    stats.worst = name + "[" + std::to_string(worst_i) + "]";
  }
  INFO(fx.meta_str("case") << " " << fx.meta_str("dtype") << ": " << name << " " << ref.shape_str()
                           << " element " << worst_i << ": reel " << static_cast<double>(got[worst_i])
                           << " vs torch " << ref.values[static_cast<size_t>(worst_i)] << " (err " << worst
                           << ", tol " << tol << ", floor " << floor << ")");
  CHECK(worst <= tol);
  return worst;
}

template <class T>
void set_param(Parameter<T>& p, const fixture::Fixture& fx, const std::string& name) {
  std::vector<int64_t> dims(p.shape.dims.begin(), p.shape.dims.begin() + p.shape.rank);
  std::vector<T> v = fx.at(name, dims).template as<T>();
  REQUIRE(v.size() == p.value.size());
  p.value = v;
}

// Runs one fixture; returns its error statistics.
template <class T>
ErrStats run_fixture(const fixture::Fixture& fx, double tol) {
  const int64_t B = fx.meta_int("batch"), Tn = fx.meta_int("time"), I = fx.meta_int("input"),
                H = fx.meta_int("hidden"), O = fx.meta_int("output");
  const std::string loss_kind = fx.meta_str("loss");
  REQUIRE((loss_kind == "proj" || loss_kind == "ce_last"));

  ParameterStore<T> store;
  Rng rng(1);
  RNNConfig cfg;
  cfg.input_dim = I;
  cfg.hidden_dim = H;
  cfg.output_dim = O;
  cfg.activation = fx.meta_str("activation");
  VanillaRNN<T> rnn(store, cfg, rng);
  REQUIRE(rnn.W_hy != nullptr);
  set_param(rnn.W_xh, fx, "W_xh");
  set_param(rnn.W_hh, fx, "W_hh");
  set_param(rnn.b_h, fx, "b_h");
  set_param(*rnn.W_hy, fx, "W_hy");
  set_param(*rnn.b_y, fx, "b_y");

  Tape<T> tape;
  Var<T> X = tape.input(fx.at("X", {B, Tn, I}).template as<T>(), Shape{B, Tn, I}, true);
  Var<T> h0 = tape.input(fx.at("h0", {B, H}).template as<T>(), Shape{B, H}, true);
  auto seq = rnn.forward_sequence(tape, X, h0);
  REQUIRE(seq.hidden_states.size() == static_cast<size_t>(Tn));
  REQUIRE(seq.outputs.size() == static_cast<size_t>(Tn));

  Var<T> loss;
  if (loss_kind == "proj") {
    Var<T> R = tape.input(fx.at("R", {B, Tn, O}).template as<T>(), Shape{B, Tn, O});
    loss = sum(mul(stack_time(seq.outputs), R));  // Σ_t Σ y_t ⊙ R_t
  } else {
    const fixture::Tensor& tg = fx.at("targets", {B});
    loss = cross_entropy(seq.outputs.back(), tg.ints);  // mean over the batch, last step only
  }
  tape.backward(loss);

  ErrStats st;
  const Var<T> Hs = stack_time(seq.hidden_states);  // after backward: only read
  const Var<T> Ys = stack_time(seq.outputs);
  compare(fx, "H", {B, Tn, H}, Hs.data(), Hs.size(), tol, st);
  compare(fx, "Y", {B, Tn, O}, Ys.data(), Ys.size(), tol, st);
  const T l = loss.item();
  compare(fx, "loss", {}, &l, 1, tol, st);
  compare(fx, "grad_W_xh", {I, H}, rnn.W_xh.grad.data(), rnn.W_xh.size(), tol, st);
  compare(fx, "grad_W_hh", {H, H}, rnn.W_hh.grad.data(), rnn.W_hh.size(), tol, st);
  compare(fx, "grad_b_h", {H}, rnn.b_h.grad.data(), rnn.b_h.size(), tol, st);
  compare(fx, "grad_W_hy", {H, O}, rnn.W_hy->grad.data(), rnn.W_hy->size(), tol, st);
  compare(fx, "grad_b_y", {O}, rnn.b_y->grad.data(), rnn.b_y->size(), tol, st);
  compare(fx, "grad_X", {B, Tn, I}, X.grad(), X.size(), tol, st);
  compare(fx, "grad_h0", {B, H}, h0.grad(), h0.size(), tol, st);

  // A zero h0 must also be what forward_sequence uses when no h0 is given.
  if (fx.meta_str("h0") == "zero") {
    Tape<T> t2;
    Var<T> X2 = t2.input(fx.at("X").template as<T>(), Shape{B, Tn, I});
    auto seq2 = rnn.forward_sequence(t2, X2);
    Var<T> Ys2 = stack_time(seq2.outputs);
    for (int64_t i = 0; i < Ys2.size(); ++i) REQUIRE(Ys2.data()[i] == Ys.data()[i]);
  }
  return st;
}

template <class T>
void run_all(const std::string& dtype, double tol) {
  std::vector<std::string> files;
  for (const std::string& f : fixture::list_fixtures(kFixtureDir))
    if (f.size() > 8 && f.compare(f.size() - 8, 8, "_" + dtype + ".txt") == 0) files.push_back(f);
  // The cases the fixture script must provide (both dtypes).
  for (const char* want : {"b1_t1_tanh", "b3_t5_tanh", "b2_t50_tanh", "b4_t7_relu", "b2_t4_i3_h4_o2_tanh",
                           "b2_t4_i3_h4_o2_tanh_h0zero", "b3_t6_tanh_ce"}) {
    INFO("fixture " << want << "_" << dtype << ".txt in " << kFixtureDir);
    CHECK(std::find(files.begin(), files.end(), kFixtureDir + "/" + want + "_" + dtype + ".txt") != files.end());
  }
  REQUIRE(files.size() >= 7);
  for (const std::string& f : files) {
    const fixture::Fixture fx = fixture::read_fixture(f);
    REQUIRE(fx.meta_str("dtype") == dtype);
    SECTION(fx.meta_str("case")) {
      INFO("fixture " << f);
      ErrStats st = run_fixture<T>(fx, tol);
      CHECK(st.compared > 0);
      if (std::getenv("REEL_FIXTURE_REPORT"))
        std::cout << "[pytorch " << dtype << "] " << fx.meta_str("case") << ": " << st.compared
                  << " values, max err " << st.max_err << " at " << st.worst << "\n";
    }
  }
}

}  // namespace

TEST_CASE("VanillaRNN matches PyTorch in float64 (err <= 1e-5)", "[rnn][pytorch]") { run_all<double>("f64", 1e-5); }

TEST_CASE("VanillaRNN matches PyTorch in float32 (err <= 1e-4)", "[rnn][pytorch]") { run_all<float>("f32", 1e-4); }

TEST_CASE("fixture reader reports malformed files", "[rnn][pytorch]") {
  const std::string dir = std::string(REEL_BINARY_DIR) + "/fixture_io_test";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string p = dir + "/" + name;
    std::ofstream(p) << text;
    return p;
  };
  auto throws_with = [](const std::string& path, const std::string& what) {
    try {
      fixture::read_fixture(path);
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find(path) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
      return;
    }
    FAIL("no exception for " << path);
  };
  const std::string good = write("good.txt", "reel-fixture 1\nmeta case x\ntensor a f64 2 2 2\n1 2 3 4.5\n"
                                             "tensor s f32 0\n0.25\ntensor k i64 1 3\n0 2 1\nend\n");
  fixture::Fixture fx = fixture::read_fixture(good);
  CHECK(fx.meta_str("case") == "x");
  CHECK(fx.at("a", {2, 2}).values == std::vector<double>{1, 2, 3, 4.5});
  CHECK(fx.at("s", {}).values == std::vector<double>{0.25});
  CHECK(fx.at("k").ints == std::vector<int64_t>{0, 2, 1});
  CHECK_THROWS_WITH(fx.at("a", {4}), Catch::Contains("(2, 2)") && Catch::Contains("(4)"));
  CHECK_THROWS_WITH(fx.at("nope"), Catch::Contains("nope"));
  throws_with(dir + "/missing.txt", "cannot open");
  throws_with(write("hdr.txt", "fixture 2\nend\n"), "header");
  throws_with(write("count.txt", "reel-fixture 1\ntensor a f64 1 3\n1 2\nend\n"), "needs 3 values, got 2");
  throws_with(write("val.txt", "reel-fixture 1\ntensor a f64 1 2\n1 x2\nend\n"), "bad value 'x2'");
  throws_with(write("dtype.txt", "reel-fixture 1\ntensor a f16 1 1\n1\nend\n"), "unknown dtype");
  throws_with(write("trunc.txt", "reel-fixture 1\ntensor a f64 1 1\n1\n"), "truncated");
}
