// Optimizers (SGD, Adam, AdamW), global gradient-norm clipping and learning-rate schedules.
//
// Every optimizer test runs 3 steps on two parameters with fixed gradients, in double:
//   a = [1.0, -2.0, 0.5] with gradient [0.1, -0.3, 2.0],  b = [0.3, -0.7] with gradient [-1.5, 0.25].
// SGD and plain Adam are checked against closed forms worked out by hand (1e-12 relative);
// Adam with L2 weight decay and AdamW against torch.optim (float64), numbers printed by
// tools/make_optim_fixtures.py (torch 1.13).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "framework/error.h"
#include "framework/optim/clip.h"
#include "framework/optim/optimizer.h"
#include "framework/optim/schedule.h"
#include "framework/parameter.h"

using namespace reel;
using D = double;

namespace {

const std::vector<D> kA0 = {1.0, -2.0, 0.5};
const std::vector<D> kB0 = {0.3, -0.7};
const std::vector<D> kGA = {0.1, -0.3, 2.0};
const std::vector<D> kGB = {-1.5, 0.25};

struct Fixture {
  ParameterStore<D> store;
  Parameter<D>* a;
  Parameter<D>* b;
  Fixture() {
    a = &store.add("a", Shape{3});
    b = &store.add("b", Shape{2});
    a->value = kA0;
    b->value = kB0;
  }
  void set_grads() {
    a->grad = kGA;
    b->grad = kGB;
  }
  template <class Opt>
  void run(Opt& opt, int steps = 3) {
    for (int s = 0; s < steps; ++s) {
      store.zero_grad();
      set_grads();
      opt.step();
    }
  }
};

void check_close(const std::vector<D>& got, const std::vector<D>& want, double rel = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK(std::abs(got[i] - want[i]) <= rel * std::max(std::abs(want[i]), 1e-300));
  }
}

// Expected values from per-element closed forms f(p0, g).
template <class F>
std::vector<D> each(const std::vector<D>& p0, const std::vector<D>& g, F f) {
  std::vector<D> out(p0.size());
  for (size_t i = 0; i < p0.size(); ++i) out[i] = f(p0[i], g[i]);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- SGD

TEST_CASE("SGD plain: p3 = p0 - 3·lr·g", "[train][optim]") {
  Fixture f;
  SGDOptions o;
  o.lr = 0.1;
  SGD<D> opt(f.store.all(), o);
  f.run(opt);
  auto want = [](D p, D g) { return p - 3 * 0.1 * g; };
  check_close(f.a->value, each(kA0, kGA, want));
  check_close(f.b->value, each(kB0, kGB, want));
  CHECK(opt.steps() == 3);
  CHECK(opt.kind() == "sgd");
  CHECK(opt.buffers().empty());  // no momentum: no state
}

TEST_CASE("SGD momentum 0.9, dampening 0: buffers g, 1.9g, 2.71g", "[train][optim]") {
  Fixture f;
  SGDOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.dampening = 0;
  SGD<D> opt(f.store.all(), o);
  f.run(opt);
  // buf1 = g, buf2 = 0.9g + g = 1.9g, buf3 = 0.9·1.9g + g = 2.71g; Σ = 5.61g
  auto want = [](D p, D g) { return p - 0.1 * 5.61 * g; };
  check_close(f.a->value, each(kA0, kGA, want));
  check_close(f.b->value, each(kB0, kGB, want));
  // Also matches torch.optim.SGD (tools/make_optim_fixtures.py, "sgd_momentum"):
  check_close(f.a->value, {0.94389999999999996, -1.8317000000000001, -0.622});
  check_close(f.b->value, {1.1415, -0.84024999999999994});

  auto bufs = opt.buffers();
  REQUIRE(bufs.size() == 2);
  CHECK(bufs[0].kind == "momentum_buffer");
  CHECK(bufs[0].param == "a");
  CHECK(bufs[1].kind == "momentum_buffer");
  CHECK(bufs[1].param == "b");
  check_close(*bufs[0].values, each(kA0, kGA, [](D, D g) { return 2.71 * g; }));
  check_close(*bufs[1].values, each(kB0, kGB, [](D, D g) { return 2.71 * g; }));
}

TEST_CASE("SGD nesterov: steps 1.9g, 2.71g, 3.439g", "[train][optim]") {
  Fixture f;
  SGDOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.nesterov = true;
  SGD<D> opt(f.store.all(), o);
  f.run(opt);
  // d_t = g + 0.9·buf_t with buf_t = g, 1.9g, 2.71g: 1.9g + 2.71g + 3.439g = 8.049g
  auto want = [](D p, D g) { return p - 0.1 * 8.049 * g; };
  check_close(f.a->value, each(kA0, kGA, want));
  check_close(f.b->value, each(kB0, kGB, want));
  check_close(f.a->value, {0.91950999999999994, -1.7585300000000001, -1.1098000000000001});  // torch
  check_close(f.b->value, {1.5073500000000002, -0.90122499999999994});                      // torch
}

TEST_CASE("SGD weight decay: p ← (1 - lr·wd)·p - lr·g", "[train][optim]") {
  Fixture f;
  SGDOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.05;
  SGD<D> opt(f.store.all(), o);
  f.run(opt);
  const D k = 1 - 0.1 * 0.05;
  auto want = [k](D p, D g) { return k * k * k * p - 0.1 * g * (1 + k + k * k); };
  check_close(f.a->value, each(kA0, kGA, want));
  check_close(f.b->value, each(kB0, kGB, want));
  check_close(f.a->value, {0.95522462500000005, -1.8805989999999999, -0.10446756250000006});  // torch
  check_close(f.b->value, {0.74327621249999998, -0.76417803749999991});                     // torch
}

// ---------------------------------------------------------------- Adam

TEST_CASE("Adam default betas, constant gradient: each step moves lr·g/(|g| + eps)", "[train][optim]") {
  Fixture f;
  AdamOptions o;
  o.lr = 0.1;
  Adam<D> opt(f.store.all(), o);
  CHECK(opt.kind() == "adam");
  f.run(opt);
  // With a constant g: m_t = (1-β1^t)·g and v_t = (1-β2^t)·g², so the bias-corrected step is
  // lr·g/(|g| + eps) every time.
  auto want = [](D p, D g) { return p - 3 * 0.1 * g / (std::abs(g) + 1e-8); };
  check_close(f.a->value, each(kA0, kGA, want));
  check_close(f.b->value, each(kB0, kGB, want));
  // torch.optim.Adam (tools/make_optim_fixtures.py, "adam"):
  check_close(f.a->value, {0.70000002999999777, -1.7000000100000006, 0.20000000150000075});
  check_close(f.b->value, {0.59999999799999926, -0.99999998799999967});

  // State by name: exp_avg for every parameter, then exp_avg_sq for every parameter.
  auto bufs = opt.buffers();
  REQUIRE(bufs.size() == 4);
  int found = 0;
  for (auto& buf : bufs) {
    INFO(buf.kind << " " << buf.param);
    REQUIRE(buf.values != nullptr);
    const bool is_a = buf.param == "a";
    REQUIRE((is_a || buf.param == "b"));
    const auto& g = is_a ? kGA : kGB;
    const auto& p0 = is_a ? kA0 : kB0;
    CHECK(buf.values->size() == p0.size());
    if (buf.kind == "exp_avg") {
      const D c = 1 - std::pow(0.9, 3);  // 0.271
      check_close(*buf.values, each(p0, g, [c](D, D gi) { return c * gi; }));
      ++found;
    } else if (buf.kind == "exp_avg_sq") {
      const D c = 1 - std::pow(0.999, 3);
      check_close(*buf.values, each(p0, g, [c](D, D gi) { return c * gi * gi; }));
      ++found;
    } else {
      FAIL("unexpected buffer kind " << buf.kind);
    }
  }
  CHECK(found == 4);
}

TEST_CASE("Adam with L2 weight decay matches torch.optim.Adam", "[train][optim]") {
  Fixture f;
  AdamOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.5;
  Adam<D> opt(f.store.all(), o);
  CHECK(opt.kind() == "adam");
  f.run(opt);
  // tools/make_optim_fixtures.py, "adam_l2 lr=0.1 weight_decay=0.5"
  check_close(f.a->value, {0.70122282434699723, -1.7004521056746242, 0.20023983563239911});
  check_close(f.b->value, {0.5995678359344524, -0.43281909944616759});
  auto bufs = opt.buffers();
  REQUIRE(bufs.size() == 4);
  for (auto& buf : bufs) {
    INFO(buf.kind << " " << buf.param);
    if (buf.kind == "exp_avg" && buf.param == "a")
      check_close(*buf.values, {0.14811604210352824, -0.33780607100499122, 0.59525324421290826});
    else if (buf.kind == "exp_avg" && buf.param == "b")
      check_close(*buf.values, {-0.35135580710456632, -0.012939103272425433});
    else if (buf.kind == "exp_avg_sq" && buf.param == "a")
      check_close(*buf.values, {0.00091163830693570145, 0.0046877048979352713, 0.01451017956482435});
    else if (buf.kind == "exp_avg_sq" && buf.param == "b")
      check_close(*buf.values, {0.0050698120036150388, 1.2489009571917671e-05});
    else
      FAIL("unexpected buffer " << buf.kind << " for " << buf.param);
  }
}

TEST_CASE("AdamW (decoupled weight decay) matches torch.optim.AdamW", "[train][optim]") {
  Fixture f;
  AdamOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.5;
  o.decoupled = true;
  Adam<D> opt(f.store.all(), o);
  CHECK(opt.kind() == "adamw");
  f.run(opt);
  // tools/make_optim_fixtures.py, "adamw lr=0.1 weight_decay=0.5"
  check_close(f.a->value, {0.57212502852499769, -1.4295000095083337, 0.14343750142625072});
  check_close(f.b->value, {0.54246249809833258, -0.88541248858999966});
  // Decoupled decay never enters the moments: they are plain Adam's.
  auto bufs = opt.buffers();
  REQUIRE(bufs.size() == 4);
  for (auto& buf : bufs)
    if (buf.kind == "exp_avg" && buf.param == "b") check_close(*buf.values, {-0.40649999999999992, 0.067749999999999977});
  // By hand: p_t = (1 - lr·wd)·p_{t-1} - lr·g/(|g|+eps), k = 0.95
  const D k = 1 - 0.1 * 0.5;
  auto want = [k](D p, D g) {
    const D s = 0.1 * g / (std::abs(g) + 1e-8);
    return k * k * k * p - s * (1 + k + k * k);
  };
  check_close(f.a->value, each(kA0, kGA, want));
  check_close(f.b->value, each(kB0, kGB, want));
}

TEST_CASE("Optimizer gradients are read, not zeroed, by step()", "[train][optim]") {
  Fixture f;
  f.set_grads();
  SGD<D> opt(f.store.all(), SGDOptions{});
  opt.step();
  CHECK(f.a->grad == kGA);
  CHECK(f.b->grad == kGB);
}

TEST_CASE("Optimizer misuse throws UsageError", "[train][optim]") {
  Fixture f;
  SECTION("negative learning rate via set_lr") {
    SGD<D> sgd(f.store.all(), SGDOptions{});
    CHECK_THROWS_AS(sgd.set_lr(-0.1), UsageError);
    CHECK(sgd.lr() == Approx(0.01));  // unchanged
    Adam<D> adam(f.store.all(), AdamOptions{});
    CHECK_THROWS_AS(adam.set_lr(-1e-3), UsageError);
    CHECK_THROWS_AS(adam.set_lr(std::numeric_limits<double>::quiet_NaN()), UsageError);
    CHECK_THROWS_AS(adam.set_lr(std::numeric_limits<double>::infinity()), UsageError);
    adam.set_lr(0.5);
    CHECK(adam.lr() == 0.5);
  }
  SECTION("negative learning rate in the options") {
    SGDOptions so;
    so.lr = -1;
    CHECK_THROWS_AS(SGD<D>(f.store.all(), so), UsageError);
    AdamOptions ao;
    ao.lr = -1;
    CHECK_THROWS_AS(Adam<D>(f.store.all(), ao), UsageError);
  }
  SECTION("bad betas") {
    AdamOptions o;
    o.beta1 = 1.0;
    CHECK_THROWS_AS(Adam<D>(f.store.all(), o), UsageError);
    o.beta1 = -0.1;
    CHECK_THROWS_AS(Adam<D>(f.store.all(), o), UsageError);
    o.beta1 = 0.9;
    o.beta2 = 1.5;
    CHECK_THROWS_AS(Adam<D>(f.store.all(), o), UsageError);
    o.beta2 = 0.999;
    o.eps = -1;
    CHECK_THROWS_AS(Adam<D>(f.store.all(), o), UsageError);
  }
  SECTION("bad SGD options") {
    SGDOptions o;
    o.nesterov = true;  // without momentum
    CHECK_THROWS_AS(SGD<D>(f.store.all(), o), UsageError);
    o.momentum = 0.9;
    o.dampening = 0.1;  // nesterov needs dampening 0
    CHECK_THROWS_AS(SGD<D>(f.store.all(), o), UsageError);
    SGDOptions w;
    w.weight_decay = -0.1;
    CHECK_THROWS_AS(SGD<D>(f.store.all(), w), UsageError);
  }
  SECTION("no parameters") {
    CHECK_THROWS_AS(SGD<D>({}, SGDOptions{}), UsageError);
  }
}

// ---------------------------------------------------------------- clipping

TEST_CASE("clip_grad_norm returns the pre-clip norm and scales by max_norm/(norm+1e-6)", "[train][clip]") {
  ParameterStore<D> store;
  auto& a = store.add("a", Shape{2});
  auto& b = store.add("b", Shape{1});
  a.grad = {3.0, 0.0};
  b.grad = {-4.0};  // global norm 5
  const auto params = store.all();
  CHECK(grad_norm(params) == Approx(5.0).epsilon(1e-15));

  SECTION("above max_norm: scaled") {
    const double norm = clip_grad_norm(params, 1.0, 3);
    CHECK(norm == Approx(5.0).epsilon(1e-15));
    const double c = 1.0 / (5.0 + 1e-6);
    check_close(a.grad, {3.0 * c, 0.0});
    CHECK(a.grad[1] == 0.0);
    check_close(b.grad, {-4.0 * c});
    CHECK(grad_norm(params) == Approx(5.0 * c).epsilon(1e-14));
    CHECK(grad_norm(params) < 1.0);
  }
  SECTION("below max_norm: untouched") {
    const double norm = clip_grad_norm(params, 10.0);
    CHECK(norm == Approx(5.0).epsilon(1e-15));
    CHECK(a.grad == std::vector<D>{3.0, 0.0});
    CHECK(b.grad == std::vector<D>{-4.0});
  }
  SECTION("max_norm must be positive") {
    CHECK_THROWS_AS(clip_grad_norm(params, 0.0), UsageError);
  }
}

TEST_CASE("clip_grad_norm: a NaN or Inf gradient throws NumericError naming the step and parameter",
          "[train][clip]") {
  ParameterStore<D> store;
  auto& a = store.add("rnn.W_xh", Shape{2});
  auto& b = store.add("rnn.W_hh", Shape{2});
  a.grad = {1.0, 2.0};
  const auto params = store.all();
  for (D bad : {std::numeric_limits<D>::quiet_NaN(), std::numeric_limits<D>::infinity()}) {
    b.grad = {0.5, bad};
    std::string msg;
    try {
      clip_grad_norm(params, 1.0, 17);
    } catch (const NumericError& e) {
      msg = e.what();
    }
    INFO(msg);
    REQUIRE(!msg.empty());
    CHECK_THAT(msg, Catch::Contains("step 17"));
    CHECK_THAT(msg, Catch::Contains("rnn.W_hh"));
    CHECK_THAT(msg, !Catch::Contains("rnn.W_xh"));
    // Gradients are left as they were (nothing is scaled by a NaN factor).
    CHECK(a.grad == std::vector<D>{1.0, 2.0});
  }
}

// ---------------------------------------------------------------- schedules

TEST_CASE("LRSchedule constant, step, cosine", "[train][schedule]") {
  SECTION("constant") {
    auto s = LRSchedule::constant(0.02);
    CHECK(s.kind == LRSchedule::Kind::Constant);
    for (int64_t t : {0, 1, 7, 1000}) CHECK(s.lr_at(t) == 0.02);
  }
  SECTION("step: gamma every step_size steps") {
    auto s = LRSchedule::step(0.1, 3, 0.5);
    CHECK(s.kind == LRSchedule::Kind::Step);
    const double want[] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
    for (int64_t t = 0; t < 10; ++t) {
      INFO("step " << t);
      CHECK(s.lr_at(t) == Approx(want[t]).epsilon(1e-14));
    }
    CHECK_THROWS_AS(LRSchedule::step(0.1, 0, 0.5), UsageError);
  }
  SECTION("cosine: base at 0, min_lr at total, the average at the midpoint") {
    auto s = LRSchedule::cosine(1.0, 10, 0.1);
    CHECK(s.kind == LRSchedule::Kind::Cosine);
    CHECK(s.lr_at(0) == Approx(1.0).epsilon(1e-14));
    CHECK(s.lr_at(5) == Approx(0.55).epsilon(1e-14));
    CHECK(s.lr_at(10) == Approx(0.1).epsilon(1e-14));
    CHECK(s.lr_at(25) == Approx(0.1).epsilon(1e-14));  // stays at min_lr after total_steps
    // (1 + cos(π/10))/2 of the way from min_lr, by hand
    CHECK(s.lr_at(1) == Approx(0.1 + 0.9 * (1 + std::cos(M_PI / 10)) / 2).epsilon(1e-14));
    for (int64_t t = 1; t <= 10; ++t) CHECK(s.lr_at(t) < s.lr_at(t - 1));  // strictly decreasing
    CHECK_THROWS_AS(LRSchedule::cosine(1.0, 0), UsageError);
  }
  SECTION("parse") {
    CHECK(LRSchedule::parse("constant") == LRSchedule::Kind::Constant);
    CHECK(LRSchedule::parse("step") == LRSchedule::Kind::Step);
    CHECK(LRSchedule::parse("cosine") == LRSchedule::Kind::Cosine);
    std::string msg;
    try {
      LRSchedule::parse("linear");
    } catch (const UsageError& e) {
      msg = e.what();
    }
    CHECK_THAT(msg, Catch::Contains("'linear'"));
  }
}
