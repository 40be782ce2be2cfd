// VanillaRNN: gradients by timestep, accumulation across backward calls, errors, initialisation,
// step vs sequence, and finite-difference checks of the whole network.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "framework/grad_check.h"
#include "framework/ops.h"
#include "models/vanilla_rnn.h"
#include "rnn_test_util.h"

using namespace reel;
using D = double;

namespace {

std::vector<D> randn(size_t n, uint64_t seed, double scale = 1.0) {
  Rng r(seed);
  std::vector<D> v(n);
  for (auto& x : v) x = r.normal() * scale;
  return v;
}

using testing::config;

double max_abs(const std::vector<D>& v) {
  double m = 0;
  for (D x : v) m = std::max(m, std::abs(x));
  return m;
}

// L = Σ_t Σ y_t ⊙ R_t over a (B,T,O) projection R: asymmetric, so no gradient can cancel by symmetry.
template <class T>
Var<T> projection_loss(Tape<T>& tape, const typename VanillaRNN<T>::Sequence& seq, const std::vector<T>& R) {
  Var<T> Y = stack_time(seq.outputs);
  const Shape shape = Y.shape();  // a copy: a node's shape must not be passed into the tape that grows (see report)
  return sum(mul(Y, tape.input(R, shape)));
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

TEST_CASE("W_hh's gradient is the sum over timesteps of h_{t-1}^T dz_t", "[rnn]") {
  const int64_t B = 3, Tn = 6, I = 4, H = 5, O = 3;
  for (const char* act : {"tanh", "relu"}) {
    SECTION(act) {
      ParameterStore<D> store;
      Rng rng(7);
      VanillaRNN<D> rnn(store, config(I, H, O, act), rng);
      for (auto& v : rnn.b_h.value) v = 0.1;  // some relu units on at the start
      Tape<D> tape;
      Var<D> X = tape.input(randn(static_cast<size_t>(B * Tn * I), 1), Shape{B, Tn, I}, true);
      Var<D> h0 = tape.input(randn(static_cast<size_t>(B * H), 2, 0.5), Shape{B, H}, true);
      auto seq = rnn.forward_sequence(tape, X, h0, /*intermediates=*/true);
      REQUIRE(seq.intermediates.size() == static_cast<size_t>(Tn));
      for (const auto& st : seq.intermediates) tape.retain_grad(st.z);  // like PyTorch's retain_grad()
      for (const auto& h : seq.hidden_states) tape.retain_grad(h);
      tape.backward(projection_loss(tape, seq, randn(static_cast<size_t>(B * Tn * O), 3)));

      // By hand, in double, from dz_t (the gradient left on each z_t node after backward).
      std::vector<D> whh(static_cast<size_t>(H * H), 0.0), wxh(static_cast<size_t>(I * H), 0.0),
          bh(static_cast<size_t>(H), 0.0);
      int steps_contributing = 0;
      for (int64_t t = 0; t < Tn; ++t) {
        const auto& st = seq.intermediates[static_cast<size_t>(t)];
        const D* dz = st.z.grad();
        REQUIRE(dz != nullptr);
        // dz_t = dh_t ⊙ act'(z_t)
        const D* dh = seq.hidden_states[static_cast<size_t>(t)].grad();
        REQUIRE(dh != nullptr);
        const D* h = st.h.data();
        const D* z = st.z.data();
        for (int64_t k = 0; k < B * H; ++k) {
          const D d = std::string(act) == "tanh" ? dh[k] * (1 - h[k] * h[k]) : (z[k] > 0 ? dh[k] : 0.0);
          CHECK(dz[k] == Approx(d).margin(1e-15));
        }
        const D* hprev = t == 0 ? h0.data() : seq.hidden_states[static_cast<size_t>(t - 1)].data();
        double contribution = 0;
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < H; ++j) {
            const D g = dz[b * H + j];
            bh[static_cast<size_t>(j)] += g;
            for (int64_t i = 0; i < H; ++i) {
              whh[static_cast<size_t>(i * H + j)] += hprev[b * H + i] * g;
              contribution += std::abs(hprev[b * H + i] * g);
            }
            for (int64_t i = 0; i < I; ++i) wxh[static_cast<size_t>(i * H + j)] += X.data()[(b * Tn + t) * I + i] * g;
          }
        if (contribution > 1e-3) ++steps_contributing;
      }
      CHECK(steps_contributing == Tn);  // every step adds a real share: a test of the sum, not of one term
      auto expect_close = [](const std::vector<D>& got, const std::vector<D>& want, const char* what) {
        const double tol = 1e-12 * std::max(1.0, max_abs(want));
        double worst = 0;
        for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
        INFO(what << ": max |reel - by hand| = " << worst << " (tol " << tol << ")");
        CHECK(worst <= tol);
        CHECK(max_abs(want) > 1e-3);
      };
      expect_close(rnn.W_hh.grad, whh, "W_hh");
      expect_close(rnn.W_xh.grad, wxh, "W_xh");
      expect_close(rnn.b_h.grad, bh, "b_h");
    }
  }
}

TEST_CASE("parameter gradients accumulate across backward calls until zero_grad", "[rnn]") {
  const int64_t B = 2, Tn = 4, I = 3, H = 4, O = 2;
  SECTION("exact arithmetic (dyadic values, relu): exactly 2x") {
    // Weights in multiples of 1/8, integer inputs and projection: every intermediate is exact in
    // double, so the second backward must give exactly twice the first, whatever the summation order.
    ParameterStore<D> store;
    Rng rng(11);
    VanillaRNN<D> rnn(store, config(I, H, O, "relu"), rng);
    Rng q(12);
    for (Parameter<D>* p : store.all())
      for (auto& v : p->value) v = static_cast<D>(static_cast<int64_t>(q.below(9)) - 3) / 8.0;  // -3/8 .. 5/8
    std::vector<D> x(static_cast<size_t>(B * Tn * I)), h0(static_cast<size_t>(B * H)), R(static_cast<size_t>(B * Tn * O));
    for (auto& v : x) v = static_cast<D>(static_cast<int64_t>(q.below(5)) - 1);  // -1 .. 3
    for (auto& v : h0) v = static_cast<D>(q.below(4)) / 4.0;
    for (auto& v : R) v = static_cast<D>(static_cast<int64_t>(q.below(7)) - 3);
    Tape<D> tape;
    auto iterate = [&]() {
      tape.clear();
      auto seq = rnn.forward_sequence(tape, tape.input(x, Shape{B, Tn, I}), tape.input(h0, Shape{B, H}));
      tape.backward(projection_loss(tape, seq, R));
    };
    iterate();
    std::vector<std::vector<D>> g1;
    int nonzero = 0;
    for (Parameter<D>* p : store.all()) {
      g1.push_back(p->grad);
      for (D v : p->grad) nonzero += v != 0;
    }
    CHECK(nonzero > 20);  // the relu units are not all dead
    iterate();
    auto params = store.all();
    for (size_t k = 0; k < params.size(); ++k) {
      INFO(params[k]->name);
      for (size_t i = 0; i < g1[k].size(); ++i) REQUIRE(params[k]->grad[i] == 2 * g1[k][i]);
    }
    store.zero_grad();
    for (Parameter<D>* p : params)
      for (D v : p->grad) REQUIRE(v == 0);
    iterate();  // after zero_grad: one backward's worth again
    for (size_t k = 0; k < params.size(); ++k)
      for (size_t i = 0; i < g1[k].size(); ++i) REQUIRE(params[k]->grad[i] == g1[k][i]);
  }
  SECTION("tanh, rounded arithmetic: 2x to 1e-13") {
    ParameterStore<D> store;
    Rng rng(13);
    VanillaRNN<D> rnn(store, config(I, H, O), rng);
    const auto x = randn(static_cast<size_t>(B * Tn * I), 14);
    const auto R = randn(static_cast<size_t>(B * Tn * O), 15);
    Tape<D> tape;
    auto iterate = [&]() {
      tape.clear();
      auto seq = rnn.forward_sequence(tape, tape.input(x, Shape{B, Tn, I}));
      tape.backward(projection_loss(tape, seq, R));
    };
    iterate();
    std::vector<std::vector<D>> g1;
    for (Parameter<D>* p : store.all()) g1.push_back(p->grad);
    iterate();
    auto params = store.all();
    for (size_t k = 0; k < params.size(); ++k) {
      INFO(params[k]->name);
      CHECK(max_abs(g1[k]) > 1e-3);
      for (size_t i = 0; i < g1[k].size(); ++i)
        CHECK(params[k]->grad[i] == Approx(2 * g1[k][i]).epsilon(1e-13).margin(1e-15));
    }
    store.zero_grad();
    for (Parameter<D>* p : params) CHECK(max_abs(p->grad) == 0);
  }
}

TEST_CASE("an unknown activation is a UsageError naming it and the valid ones", "[rnn]") {
  ParameterStore<D> store;
  Rng rng(1);
  CHECK_THROWS_AS(VanillaRNN<D>(store, config(3, 4, 2, "gelu"), rng), UsageError);
  const std::string msg = message_of([&] { VanillaRNN<D>(store, config(3, 4, 2, "gelu"), rng); });
  INFO(msg);
  CHECK(msg.find("gelu") != std::string::npos);
  CHECK(msg.find("tanh") != std::string::npos);
  CHECK(msg.find("relu") != std::string::npos);
  CHECK(store.count() == 0);  // nothing registered by the failed construction
  CHECK_THROWS_AS(parse_activation("Tanh"), UsageError);
  CHECK(parse_activation("relu") == Activation::Relu);
  CHECK(std::string(activation_name(Activation::Tanh)) == "tanh");
  // Bad dimensions are usage errors too.
  CHECK_THROWS_AS(VanillaRNN<D>(store, config(0, 4, 2), rng), UsageError);
  CHECK_THROWS_AS(VanillaRNN<D>(store, config(3, 4, -1), rng), UsageError);
}

TEST_CASE("shape mismatches throw ShapeError naming the op and both shapes", "[rnn]") {
  ParameterStore<D> store;
  Rng rng(2);
  VanillaRNN<D> rnn(store, config(3, 6, 2), rng);
  Tape<D> tape;

  SECTION("forward_sequence: wrong feature dim") {
    Var<D> X = tape.zeros(Shape{2, 4, 5});
    CHECK_THROWS_AS(rnn.forward_sequence(tape, X), ShapeError);
    const std::string msg = message_of([&] { rnn.forward_sequence(tape, X); });
    INFO(msg);
    CHECK(msg.find("forward_sequence") != std::string::npos);
    CHECK(msg.find("(2, 4, 5)") != std::string::npos);               // the shape given
    CHECK(msg.find("(batch, time >= 1, 3)") != std::string::npos);   // the shape expected
  }
  SECTION("forward_sequence: wrong h0") {
    Var<D> X = tape.zeros(Shape{2, 4, 3});
    Var<D> h0 = tape.zeros(Shape{2, 7});
    const std::string msg = message_of([&] { rnn.forward_sequence(tape, X, h0); });
    INFO(msg);
    CHECK_THROWS_AS(rnn.forward_sequence(tape, X, h0), ShapeError);
    CHECK(msg.find("forward_sequence") != std::string::npos);
    CHECK(msg.find("(2, 6)") != std::string::npos);
    CHECK(msg.find("(2, 7)") != std::string::npos);
  }
  SECTION("forward_step: wrong x_t") {
    Var<D> x = tape.zeros(Shape{2, 5});
    Var<D> h = tape.zeros(Shape{2, 6});
    const std::string msg = message_of([&] { rnn.forward_step(tape, x, h); });
    INFO(msg);
    CHECK_THROWS_AS(rnn.forward_step(tape, x, h), ShapeError);
    CHECK(msg.find("forward_step") != std::string::npos);
    CHECK(msg.find("(2, 5)") != std::string::npos);
    CHECK(msg.find("(2, 6)") != std::string::npos);
  }
  SECTION("matmul: inner dims differ, and the tape is left untouched") {
    Var<D> a = tape.zeros(Shape{2, 3}, true);
    Var<D> b = tape.zeros(Shape{4, 5}, true);
    const size_t nodes = tape.num_nodes(), records = tape.num_records();
    CHECK_THROWS_AS(matmul(a, b), ShapeError);
    const std::string msg = message_of([&] { matmul(a, b); });
    INFO(msg);
    CHECK(msg.find("matmul") != std::string::npos);
    CHECK(msg.find("(2, 3)") != std::string::npos);
    CHECK(msg.find("(4, 5)") != std::string::npos);
    CHECK(tape.num_nodes() == nodes);
    CHECK(tape.num_records() == records);
    Var<D> ok = matmul(a, tape.zeros(Shape{3, 5}));  // and the right inner dim works
    CHECK(ok.shape() == Shape{2, 5});
  }
}

TEST_CASE("initialisation: scaled normal weights, zero biases, seeded", "[rnn]") {
  const int64_t I = 600, H = 400, O = 200;
  ParameterStore<D> store;
  Rng rng(42);
  VanillaRNN<D> rnn(store, config(I, H, O), rng);
  auto moments = [](const std::vector<D>& v) {
    double m = 0, s = 0;
    for (D x : v) m += x;
    m /= static_cast<double>(v.size());
    for (D x : v) s += (x - m) * (x - m);
    return std::make_pair(m, std::sqrt(s / static_cast<double>(v.size() - 1)));
  };
  struct Want {
    Parameter<D>* p;
    double std;
  };
  for (Want w : {Want{&rnn.W_xh, std::sqrt(2.0 / (I + H))}, Want{&rnn.W_hh, std::sqrt(2.0 / (H + H))},
                 Want{rnn.W_hy, std::sqrt(2.0 / (H + O))}}) {
    auto [m, s] = moments(w.p->value);
    const double n = static_cast<double>(w.p->value.size());
    INFO(w.p->name << ": mean " << m << " std " << s << " (want " << w.std << ", n " << n << ")");
    // Standard errors: mean std/sqrt(n), std ≈ std/sqrt(2n); n >= 80000, so 3% and 5 s.e. are generous.
    CHECK(std::abs(s / w.std - 1) < 0.03);
    CHECK(std::abs(m) < 5 * w.std / std::sqrt(n));
  }
  CHECK(max_abs(rnn.b_h.value) == 0);
  CHECK(max_abs(rnn.b_y->value) == 0);
  CHECK(rnn.b_h.value.size() == static_cast<size_t>(H));
  // Drawn first: W_xh[0] is the seed's first normal, scaled.
  Rng fresh(42);
  CHECK(rnn.W_xh.value[0] == fresh.normal() * std::sqrt(2.0 / (I + H)));

  auto weights = [](uint64_t seed) {
    ParameterStore<D> s;
    Rng r(seed);
    VanillaRNN<D> m(s, config(5, 7, 3), r);
    std::vector<D> all;
    for (Parameter<D>* p : s.all()) all.insert(all.end(), p->value.begin(), p->value.end());
    return all;
  };
  const auto a = weights(9), b = weights(9), c = weights(10);
  CHECK(a == b);
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += a[i] != c[i];
  CHECK(differ == 5 * 7 + 7 * 7 + 7 * 3);  // every weight (biases are zero in both)
}

TEST_CASE("forward_step step by step equals forward_sequence; intermediates add up", "[rnn]") {
  const int64_t B = 3, Tn = 5, I = 4, H = 6, O = 2;
  for (const char* act : {"tanh", "relu"}) {
    SECTION(act) {
      ParameterStore<D> store;
      Rng rng(21);
      VanillaRNN<D> rnn(store, config(I, H, O, act), rng);
      Rng q(22);
      for (auto& v : rnn.b_h.value) v = q.normal() * 0.3;
      for (auto& v : rnn.b_y->value) v = q.normal() * 0.3;
      const auto x = randn(static_cast<size_t>(B * Tn * I), 23);
      const auto h0v = randn(static_cast<size_t>(B * H), 24, 0.5);
      const auto R = randn(static_cast<size_t>(B * Tn * O), 25);
      const bool is_tanh = std::string(act) == "tanh";

      Tape<D> tape;
      Var<D> X = tape.input(x, Shape{B, Tn, I});
      Var<D> h0 = tape.input(h0v, Shape{B, H});
      auto seq = rnn.forward_sequence(tape, X, h0, true);
      tape.backward(projection_loss(tape, seq, R));
      std::vector<std::vector<D>> g_seq;
      for (Parameter<D>* p : store.all()) g_seq.push_back(p->grad);
      store.zero_grad();

      Tape<D> t2;
      Var<D> X2 = t2.input(x, Shape{B, Tn, I});
      Var<D> h = t2.input(h0v, Shape{B, H});
      std::vector<Var<D>> ys;
      for (int64_t t = 0; t < Tn; ++t) {
        auto s = rnn.forward_step(t2, select_time(X2, t), h, true);
        const auto& ref = seq.intermediates[static_cast<size_t>(t)];
        for (int64_t k = 0; k < B * H; ++k) {
          CHECK(s.h.data()[k] == Approx(seq.hidden_states[static_cast<size_t>(t)].data()[k]).margin(1e-13));
          CHECK(s.z.data()[k] == Approx(ref.z.data()[k]).margin(1e-13));
        }
        for (int64_t k = 0; k < B * O; ++k)
          CHECK(s.y.data()[k] == Approx(seq.outputs[static_cast<size_t>(t)].data()[k]).margin(1e-13));

        // The intermediates of the sequence: z = a + m + b_h, h = act(z), a = x_t W_xh, m = h_{t-1} W_hh.
        const D* a = ref.input_contribution.data();
        const D* m = ref.memory_contribution.data();
        const D* z = ref.z.data();
        const D* hp = t == 0 ? h0.data() : seq.hidden_states[static_cast<size_t>(t - 1)].data();
        const D* ht = seq.hidden_states[static_cast<size_t>(t)].data();
        REQUIRE(ref.input_contribution.shape() == Shape{B, H});
        REQUIRE(ref.memory_contribution.shape() == Shape{B, H});
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < H; ++j) {
            const int64_t k = b * H + j;
            CHECK(z[k] == (a[k] + m[k]) + rnn.b_h.value[static_cast<size_t>(j)]);
            CHECK(ht[k] == (is_tanh ? std::tanh(z[k]) : std::max(z[k], 0.0)));
            double ah = 0, mh = 0;
            for (int64_t i = 0; i < I; ++i) ah += x[static_cast<size_t>((b * Tn + t) * I + i)] * rnn.W_xh.value[static_cast<size_t>(i * H + j)];
            for (int64_t i = 0; i < H; ++i) mh += hp[b * H + i] * rnn.W_hh.value[static_cast<size_t>(i * H + j)];
            CHECK(a[k] == Approx(ah).margin(1e-13));
            CHECK(m[k] == Approx(mh).margin(1e-13));
          }
        ys.push_back(s.y);
        h = s.h;
      }
      t2.backward(sum(mul(stack_time(ys), t2.input(R, Shape{B, Tn, O}))));
      auto params = store.all();
      for (size_t k = 0; k < params.size(); ++k) {
        INFO(params[k]->name);
        CHECK(max_abs(g_seq[k]) > 1e-3);
        for (size_t i = 0; i < g_seq[k].size(); ++i) CHECK(params[k]->grad[i] == Approx(g_seq[k][i]).margin(1e-12));
      }
    }
  }
}

TEST_CASE("finite differences: a whole tiny RNN, inputs and parameters", "[rnn][gradcheck]") {
  const int64_t B = 2, Tn = 3, I = 2, H = 3, O = 2;
  ParameterStore<D> store;
  Rng rng(31);
  VanillaRNN<D> rnn(store, config(I, H, O), rng);
  Rng q(32);
  for (auto& v : rnn.b_h.value) v = q.normal() * 0.3;
  for (auto& v : rnn.b_y->value) v = q.normal() * 0.3;

  GradCheckInput X{randn(static_cast<size_t>(B * Tn * I), 33), Shape{B, Tn, I}};
  GradCheckInput h0{randn(static_cast<size_t>(B * H), 34, 0.5), Shape{B, H}};

  SECTION("grad_check on X and h0") {
    GradCheckResult r = grad_check<D>(
        [&](Tape<D>& tape, const std::vector<Var<D>>& v) {
          auto seq = rnn.forward_sequence(tape, v[0], v[1]);
          return stack_time(seq.outputs);  // (B,T,O): grad_check scalarises it with a fixed projection
        },
        {X, h0});
    INFO(r.worst);
    INFO("max abs error " << r.max_abs_error << ", max rel error " << r.max_rel_error);
    CHECK(r.ok);
    CHECK(r.max_abs_error < 1e-7);
  }

  SECTION("central differences on parameter elements") {
    const auto R = randn(static_cast<size_t>(B * Tn * O), 35);
    auto loss = [&](bool grad) {
      Tape<D> tape;
      std::optional<NoGradGuard<D>> inference;
      if (!grad) inference.emplace(tape);
      auto seq = rnn.forward_sequence(tape, tape.input(X.value, X.shape), tape.input(h0.value, h0.shape));
      Var<D> l = projection_loss(tape, seq, R);
      if (grad) tape.backward(l);
      return l.item();
    };
    store.zero_grad();
    loss(true);
    const double eps = 1e-6;
    int checked = 0;
    for (Parameter<D>* p : store.all()) {
      const std::vector<D> analytic = p->grad;
      const size_t n = p->value.size();
      for (size_t i : {size_t{0}, n / 2, n - 1, (n * 2) / 3}) {
        const D orig = p->value[i];
        p->value[i] = orig + eps;
        const double up = loss(false);
        p->value[i] = orig - eps;
        const double down = loss(false);
        p->value[i] = orig;
        const double num = (up - down) / (2 * eps);
        INFO(p->name << "[" << i << "]: analytic " << analytic[i] << " numeric " << num);
        CHECK(std::abs(analytic[i] - num) <= 1e-8 + 1e-6 * std::abs(num));
        ++checked;
      }
      CHECK(max_abs(analytic) > 1e-3);
    }
    CHECK(checked == 4 * 5);
  }
}
