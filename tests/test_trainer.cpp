// Trainer (training step, NaN/Inf reporting, anomaly mode, determinism), find_non_finite, the Cli
// flag parser and the MetricsCsv writer.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "framework/anomaly.h"
#include "framework/cli.h"
#include "framework/metrics_csv.h"
#include "framework/ops.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"

using namespace reel;
using D = double;

// One tape for the docs example (a function, so the example reads as in the header).
template <class T>
Tape<T>& tape_for_docs() {
  static Tape<T> tape;
  return tape;
}

namespace {

constexpr D kNaN = std::numeric_limits<D>::quiet_NaN();

// A separable task: in class 0 every step's first feature is about +1, in class 1 about -1; the
// second feature is noise. Lengths 2..6.
struct Task {
  SequenceBatch<D> batch;
  std::vector<int64_t> labels;
};

Task make_task(uint64_t seed, int64_t n = 16) {
  Rng rng(seed);
  Task task;
  const int64_t T = 6, F = 2;
  task.batch.batch = n;
  task.batch.max_len = T;
  task.batch.features = F;
  task.batch.values.assign(static_cast<size_t>(n * T * F), 0);
  for (int64_t b = 0; b < n; ++b) {
    const int64_t label = b % 2;
    const int64_t len = 2 + static_cast<int64_t>(rng.below(5));
    task.batch.lengths.push_back(len);
    task.labels.push_back(label);
    for (int64_t t = 0; t < len; ++t) {
      D* x = task.batch.values.data() + (b * T + t) * F;
      x[0] = (label == 0 ? 1.0 : -1.0) + 0.3 * (2 * rng.uniform() - 1);
      x[1] = 2 * rng.uniform() - 1;
    }
  }
  return task;
}

SequenceModelConfig tiny_config() {
  SequenceModelConfig cfg;
  cfg.input_dim = 2;
  cfg.hidden_dim = 6;
  cfg.num_classes = 2;
  return cfg;
}

std::string step_error(Trainer<D>& trainer, Tape<D>& tape, const std::function<Var<D>(Tape<D>&)>& fwd) {
  try {
    trainer.step(tape, fwd);
  } catch (const NumericError& e) {
    return e.what();
  }
  return "";
}

// All parameter values, concatenated.
std::vector<D> snapshot(ParameterStore<D>& store) {
  std::vector<D> out;
  for (auto* p : store.all()) out.insert(out.end(), p->value.begin(), p->value.end());
  return out;
}

std::vector<D> train_run(uint64_t seed, int steps) {
  ParameterStore<D> store;
  Rng rng(seed);
  SequenceClassifier<D> model(store, tiny_config(), rng);
  const Task task = make_task(seed + 100);
  AdamOptions ao;
  ao.lr = 0.02;
  Adam<D> adam(store.all(), ao);
  TrainerOptions to;
  to.clip_norm = 1.0;
  Trainer<D> trainer(store, adam, to);
  Tape<D> tape;
  for (int s = 0; s < steps; ++s)
    trainer.step(tape, [&](Tape<D>& t) { return model.loss(t, model.logits(t, task.batch), task.labels); });
  return snapshot(store);
}

// argv from strings (Cli::parse takes char**).
struct Argv {
  std::vector<std::string> s;
  std::vector<char*> p;
  explicit Argv(std::vector<std::string> args) : s(std::move(args)) {
    for (auto& a : s) p.push_back(a.data());
    p.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(s.size()); }
  char** argv() { return p.data(); }
};

Cli make_cli() {
  Cli cli("train", "trains a thing");
  cli.option("lr", "0.1", "learning rate").option("epochs", "5", "epochs").flag("verbose", "talk more");
  return cli;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// ---------------------------------------------------------------- training

TEST_CASE("Trainer with Adam lowers a tiny classifier's loss on a separable task", "[train][trainer]") {
  ParameterStore<D> store;
  Rng rng(1);
  SequenceClassifier<D> model(store, tiny_config(), rng);
  const Task task = make_task(2);
  AdamOptions ao;
  ao.lr = 0.05;
  Adam<D> adam(store.all(), ao);
  Trainer<D> trainer(store, adam);
  Tape<D> tape;
  auto fwd = [&](Tape<D>& t) { return model.loss(t, model.logits(t, task.batch), task.labels); };

  std::vector<double> losses;
  for (int s = 0; s < 30; ++s) {
    StepResult r = trainer.step(tape, fwd);
    CHECK(r.step == s + 1);
    CHECK(r.lr == 0.05);
    CHECK(std::isfinite(r.grad_norm));
    CHECK(r.grad_norm > 0);
    losses.push_back(r.loss);
  }
  CHECK(trainer.steps() == 30);
  CHECK(adam.steps() == 30);
  // The loss reported is the one before the step; evaluate once more after the last step.
  tape.clear();
  const double final_loss = fwd(tape).item();
  INFO("initial " << losses.front() << ", after 30 steps " << final_loss);
  CHECK(losses.front() > 0.3);  // two classes at init: around ln 2
  CHECK(final_loss < 0.5 * losses.front());
  CHECK(losses.back() < losses.front());
}

TEST_CASE("Trainer follows its LR schedule and clips", "[train][trainer]") {
  ParameterStore<D> store;
  Rng rng(1);
  SequenceClassifier<D> model(store, tiny_config(), rng);
  const Task task = make_task(2);
  SGD<D> sgd(store.all(), SGDOptions{});
  TrainerOptions to;
  to.schedule = LRSchedule::step(0.4, 2, 0.5);
  to.clip_norm = 1e-3;  // always clips
  Trainer<D> trainer(store, sgd, to);
  Tape<D> tape;
  auto fwd = [&](Tape<D>& t) { return model.loss(t, model.logits(t, task.batch), task.labels); };
  const double want_lr[] = {0.4, 0.4, 0.2, 0.2, 0.1};
  for (int s = 0; s < 5; ++s) {
    const std::vector<D> before = snapshot(store);
    StepResult r = trainer.step(tape, fwd);
    CHECK(r.lr == Approx(want_lr[s]).epsilon(1e-15));
    CHECK(sgd.lr() == Approx(want_lr[s]).epsilon(1e-15));
    CHECK(r.grad_norm > 1e-3);  // reported before clipping
    // After clipping, the gradient's norm is max_norm (up to the 1e-6 of the formula), so the SGD
    // step has length lr·1e-3.
    const std::vector<D> after = snapshot(store);
    double moved = 0;
    for (size_t i = 0; i < after.size(); ++i) moved += (after[i] - before[i]) * (after[i] - before[i]);
    CHECK(std::sqrt(moved) == Approx(want_lr[s] * 1e-3 * r.grad_norm / (r.grad_norm + 1e-6)).epsilon(1e-9));
  }
}

TEST_CASE("Trainer: a NaN loss throws NumericError naming the step, and nothing is updated", "[train][trainer]") {
  ParameterStore<D> store;
  Rng rng(1);
  SequenceClassifier<D> model(store, tiny_config(), rng);
  const Task task = make_task(2);
  Adam<D> adam(store.all(), AdamOptions{});
  Trainer<D> trainer(store, adam);
  Tape<D> tape;
  auto fwd = [&](Tape<D>& t) { return model.loss(t, model.logits(t, task.batch), task.labels); };
  trainer.step(tape, fwd);  // one good step first: the failing one is step 2
  store.at("head.b").value[0] = kNaN;
  const std::vector<D> before = snapshot(store);
  const std::string msg = step_error(trainer, tape, fwd);
  INFO(msg);
  REQUIRE(!msg.empty());
  CHECK_THAT(msg, Catch::Contains("step 2"));
  CHECK_THAT(msg, Catch::Contains("NaN"));
  CHECK(trainer.steps() == 1);  // the optimizer did not step
  const std::vector<D> after = snapshot(store);
  CHECK(std::memcmp(before.data(), after.data(), before.size() * sizeof(D)) == 0);
}

TEST_CASE("Trainer: an Inf loss is reported as Inf", "[train][trainer]") {
  ParameterStore<D> store;
  auto& w = store.add("w", Shape{1, 1});
  w.value = {std::numeric_limits<D>::infinity()};
  SGD<D> sgd(store.all(), SGDOptions{});
  Trainer<D> trainer(store, sgd);
  Tape<D> tape;
  const std::string msg = step_error(trainer, tape, [&](Tape<D>& t) { return sum(t.param(w)); });
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("step 1"));
  CHECK_THAT(msg, Catch::Contains("Inf"));
}

TEST_CASE("Trainer anomaly mode: a NaN in rnn.W_hh is traced to an op and a timestep",
          "[train][trainer][anomaly]") {
  ParameterStore<D> store;
  Rng rng(1);
  SequenceClassifier<D> model(store, tiny_config(), rng);
  const Task task = make_task(2);
  Adam<D> adam(store.all(), AdamOptions{});
  TrainerOptions to;
  to.anomaly = true;
  Trainer<D> trainer(store, adam, to);
  Tape<D> tape;
  store.at("rnn.W_hh").value[7] = kNaN;
  const std::string msg = step_error(trainer, tape, [&](Tape<D>& t) {
    return model.loss(t, model.logits(t, task.batch, BatchMode::Padded), task.labels);
  });
  INFO(msg);
  REQUIRE(!msg.empty());
  CHECK_THAT(msg, Catch::Contains("step 1"));
  CHECK_THAT(msg, Catch::Contains("matmul"));  // h_{t-1}·W_hh is the first op to produce the NaN
  CHECK_THAT(msg, Catch::Contains("timestep"));
}

TEST_CASE("Trainer anomaly mode off: the message points to anomaly mode", "[train][trainer][anomaly]") {
  ParameterStore<D> store;
  Rng rng(1);
  SequenceClassifier<D> model(store, tiny_config(), rng);
  const Task task = make_task(2);
  Adam<D> adam(store.all(), AdamOptions{});
  Trainer<D> trainer(store, adam);
  Tape<D> tape;
  store.at("rnn.W_hh").value[7] = kNaN;
  const std::string msg = step_error(trainer, tape, [&](Tape<D>& t) {
    return model.loss(t, model.logits(t, task.batch), task.labels);
  });
  INFO(msg);
  CHECK_THAT(msg, Catch::Contains("step 1"));
  CHECK_THAT(msg, Catch::Contains("anomaly"));
}

TEST_CASE("find_non_finite: nullopt on a clean tape; op, timestep and row of the first bad value",
          "[train][anomaly]") {
  Tape<D> tape;
  SECTION("clean tape, values and gradients") {
    ParameterStore<D> store;
    Rng rng(1);
    SequenceClassifier<D> model(store, tiny_config(), rng);
    const Task task = make_task(2);
    Var<D> loss = model.loss(tape, model.logits(tape, task.batch), task.labels);
    tape.backward(loss);
    REQUIRE(tape.num_nodes() > 10);
    CHECK_FALSE(find_non_finite(tape).has_value());
    CHECK_FALSE(find_non_finite(tape, true).has_value());
  }
  SECTION("an overflow inside a timestep") {
    Var<D> x = tape.input(std::vector<D>{1, 2, 3, 4, 5, 6}, Shape{3, 2}, true);
    Var<D> y;
    {
      StepScope<D> scope(tape, 4);
      Var<D> big = scale(x, D(1e300));  // finite
      y = mul(big, big);                // 1e600: Inf from row 0 on
    }
    Var<D> loss = sum(y);
    auto a = find_non_finite(tape);
    REQUIRE(a.has_value());
    CHECK(a->op == "mul");
    CHECK(a->step == 4);
    CHECK(a->row == 0);
    CHECK(a->index == 0);
    CHECK_FALSE(a->is_nan);
    CHECK_FALSE(a->in_gradient);
    const std::string m = a->message();
    CHECK_THAT(m, Catch::Contains("mul") && Catch::Contains("timestep 4") && Catch::Contains("Inf"));
    (void)loss;
  }
  SECTION("a NaN in a later row") {
    Var<D> x = tape.input(std::vector<D>{1, 2, 3, 4, 5, kNaN}, Shape{3, 2});
    auto a = find_non_finite(tape);
    REQUIRE(a.has_value());
    CHECK(a->op == "input");
    CHECK(a->row == 2);
    CHECK(a->index == 5);
    CHECK(a->is_nan);
    CHECK(a->step == -1);
    (void)x;
  }
}

// ---------------------------------------------------------------- determinism

TEST_CASE("Training is deterministic given the seed", "[train][trainer][determinism]") {
  const std::vector<D> a = train_run(42, 10);
  const std::vector<D> b = train_run(42, 10);
  const std::vector<D> c = train_run(43, 10);
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() == c.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(D)) == 0);
  CHECK(std::memcmp(a.data(), c.data(), a.size() * sizeof(D)) != 0);
  // Training moved the parameters (the comparison is not between two untouched inits).
  ParameterStore<D> store;
  Rng rng(42);
  SequenceClassifier<D> model(store, tiny_config(), rng);
  const std::vector<D> init = snapshot(store);
  REQUIRE(init.size() == a.size());
  CHECK(std::memcmp(a.data(), init.data(), a.size() * sizeof(D)) != 0);
}

// ---------------------------------------------------------------- Cli

TEST_CASE("Cli parses --x=1 and --x 1, flags and defaults", "[train][cli]") {
  SECTION("both forms") {
    Cli cli = make_cli();
    Argv args({"train", "--lr=0.5", "--epochs", "7", "--verbose"});
    REQUIRE(cli.parse(args.argc(), args.argv()));
    CHECK(cli.number("lr") == 0.5);
    CHECK(cli.integer("epochs") == 7);
    CHECK(cli.on("verbose"));
    CHECK(cli.given("lr"));
    CHECK(cli.given("epochs"));
    CHECK(cli.str("lr") == "0.5");
  }
  SECTION("defaults when not given") {
    Cli cli = make_cli();
    Argv args({"train"});
    REQUIRE(cli.parse(args.argc(), args.argv()));
    CHECK(cli.number("lr") == 0.1);
    CHECK(cli.integer("epochs") == 5);
    CHECK_FALSE(cli.on("verbose"));
    CHECK_FALSE(cli.given("lr"));
  }
  SECTION("--epochs=3 and --epochs 3 agree") {
    Cli c1 = make_cli(), c2 = make_cli();
    Argv a1({"train", "--epochs=3"}), a2({"train", "--epochs", "3"});
    REQUIRE(c1.parse(a1.argc(), a1.argv()));
    REQUIRE(c2.parse(a2.argc(), a2.argv()));
    CHECK(c1.integer("epochs") == 3);
    CHECK(c2.integer("epochs") == 3);
  }
  SECTION("help mentions every flag") {
    Cli cli = make_cli();
    const std::string h = cli.help();
    CHECK_THAT(h, Catch::Contains("--lr") && Catch::Contains("--epochs") && Catch::Contains("--verbose"));
  }
}

TEST_CASE("Cli errors name the flag", "[train][cli]") {
  auto error_of = [](std::vector<std::string> argv, const std::function<void(Cli&)>& after = {}) {
    Cli cli = make_cli();
    Argv args(std::move(argv));
    try {
      cli.parse(args.argc(), args.argv());
      if (after) after(cli);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SECTION("unknown flag") {
    const std::string m = error_of({"train", "--bogus", "1"});
    INFO(m);
    CHECK_THAT(m, Catch::Contains("--bogus"));
    const std::string m2 = error_of({"train", "--nope=3"});
    INFO(m2);
    CHECK_THAT(m2, Catch::Contains("--nope"));
  }
  SECTION("integer parse error") {
    const std::string m = error_of({"train", "--epochs=abc"}, [](Cli& c) { c.integer("epochs"); });
    INFO(m);
    CHECK_THAT(m, Catch::Contains("--epochs") && Catch::Contains("abc"));
    const std::string m2 = error_of({"train", "--epochs", "3.5"}, [](Cli& c) { c.integer("epochs"); });
    INFO(m2);
    CHECK_THAT(m2, Catch::Contains("--epochs") && Catch::Contains("3.5"));
  }
  SECTION("integer with trailing text or empty") {
    const std::string m = error_of({"train", "--epochs=7x"}, [](Cli& c) { c.integer("epochs"); });
    INFO(m);
    CHECK_THAT(m, Catch::Contains("--epochs") && Catch::Contains("7x"));
    const std::string m2 = error_of({"train", "--epochs="}, [](Cli& c) { c.integer("epochs"); });
    INFO(m2);
    CHECK_THAT(m2, Catch::Contains("--epochs"));
  }
  SECTION("number parse error") {
    const std::string m = error_of({"train", "--lr", "fast"}, [](Cli& c) { c.number("lr"); });
    INFO(m);
    CHECK_THAT(m, Catch::Contains("--lr") && Catch::Contains("fast"));
  }
  SECTION("missing value") {
    const std::string m = error_of({"train", "--epochs"});
    INFO(m);
    CHECK_THAT(m, Catch::Contains("--epochs"));
  }
  SECTION("a boolean flag takes no value") {
    const std::string m = error_of({"train", "--verbose=1"});
    INFO(m);
    CHECK_THAT(m, Catch::Contains("--verbose"));
  }
  SECTION("a bare argument") {
    const std::string m = error_of({"train", "data.txt"});
    INFO(m);
    CHECK_THAT(m, Catch::Contains("data.txt"));
  }
}

// ---------------------------------------------------------------- MetricsCsv

TEST_CASE("MetricsCsv writes a header and rows, append keeps them", "[train][metrics]") {
  const std::string path = std::string(REEL_BINARY_DIR) + "/test_trainer_metrics.csv";
  std::remove(path.c_str());
  {
    MetricsCsv csv(path);
    REQUIRE(csv.enabled());
    csv.row({{"epoch", 1}, {"loss", 0.5}, {"acc", 0.75}});
    csv.row({{"epoch", 2}, {"loss", 0.25}, {"acc", 0.875}});
    // Flushed per row: readable before the writer is gone.
    CHECK(read_file(path) == "epoch,loss,acc\n1,0.5,0.75\n2,0.25,0.875\n");
    CHECK_THROWS_AS(csv.row({{"epoch", 3}, {"loss", 0.1}}), UsageError);  // a column missing
  }
  {
    MetricsCsv csv(path, /*append=*/true);
    csv.row({{"epoch", 3}, {"loss", 0.125}, {"acc", 1}});
  }
  CHECK(read_file(path) == "epoch,loss,acc\n1,0.5,0.75\n2,0.25,0.875\n3,0.125,1\n");
  {
    MetricsCsv csv(path);  // no append: starts over
    csv.row({{"step", 10}});
  }
  CHECK(read_file(path) == "step\n10\n");
  std::remove(path.c_str());

  MetricsCsv off("");
  CHECK_FALSE(off.enabled());
  off.row({{"x", 1}});  // a no-op
}

TEST_CASE("MetricsCsv: a rejected row writes nothing", "[train][metrics]") {
  const std::string path = std::string(REEL_BINARY_DIR) + "/test_trainer_metrics_rejected.csv";
  std::remove(path.c_str());
  {
    MetricsCsv csv(path);
    csv.row({{"epoch", 1}, {"loss", 0.5}, {"acc", 0.75}});
    CHECK_THROWS_AS(csv.row({{"epoch", 3}, {"acc", 0.1}, {"loss", 0.2}}), UsageError);  // wrong order
    CHECK_THROWS_AS(csv.row({{"epoch", 3}, {"loss", 0.1}, {"accuracy", 0.2}}), UsageError);  // wrong name
    csv.row({{"epoch", 2}, {"loss", 0.25}, {"acc", 0.875}});
  }
  CHECK(read_file(path) == "epoch,loss,acc\n1,0.5,0.75\n2,0.25,0.875\n");
  std::remove(path.c_str());
}

TEST_CASE("Cli: an out-of-range integer is an error naming the flag", "[train][cli]") {
  Cli cli = make_cli();
  Argv args({"train", "--epochs", "99999999999999999999999"});
  REQUIRE(cli.parse(args.argc(), args.argv()));
  std::string m;
  try {
    const int64_t v = cli.integer("epochs");
    m = "no error, got " + std::to_string(v);
  } catch (const UsageError& e) {
    m = std::string("UsageError: ") + e.what();
  }
  INFO(m);
  CHECK_THAT(m, Catch::StartsWith("UsageError") && Catch::Contains("--epochs"));
}

TEST_CASE("The documented Trainer set-up is C++17: options by field, no designated initializers", "[train][trainer]") {
  ParameterStore<D> store;
  Parameter<D>& w = store.add("w", Shape{1});
  w.value = {3.0};
  SGD<D> sgd(store.all(), SGDOptions{});
  // framework/trainer.h's example, word for word:
  TrainerOptions options;
  options.clip_norm = 1.0;
  Trainer<D> trainer(store, sgd, options);
  StepResult r = trainer.step(tape_for_docs<D>(), [&](Tape<D>& t) { return sum(mul(t.param(w), t.param(w))); });
  CHECK(r.grad_norm == Approx(6.0));
  CHECK(w.value[0] < 3.0);
  // No C++20 designated initializer ({.field = ...}) is shown anywhere a user copies from.
  namespace fs = std::filesystem;
  std::vector<fs::path> files = {"README.md"};
  for (const char* dir : {"framework", "models", "data", "docs", "examples"})
    for (const auto& e : fs::recursive_directory_iterator(fs::path(REEL_SOURCE_DIR) / dir))
      if (e.is_regular_file() && (e.path().extension() == ".h" || e.path().extension() == ".md" || e.path().extension() == ".cpp"))
        files.push_back(fs::relative(e.path(), REEL_SOURCE_DIR));
  CHECK(files.size() > 100);
  const std::regex designated(R"(\{\s*\.[A-Za-z_]+\s*=)");
  for (const fs::path& file : files) {
    std::ifstream in(fs::path(REEL_SOURCE_DIR) / file);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    INFO(file.string());
    CHECK_FALSE(std::regex_search(ss.str(), designated));
  }
}

TEST_CASE("MetricsCsv on resume keeps only the epochs the checkpoint holds; a failed write throws", "[train][metrics]") {
  const std::string path = std::string(REEL_BINARY_DIR) + "/test_trainer_metrics_resume.csv";
  {
    MetricsCsv csv(path);
    for (int e = 1; e <= 3; ++e) csv.row({{"epoch", e}, {"loss", 1.0 / e}});
  }
  // Killed after epoch 3's row but before its checkpoint: the run resumes from epoch 2's.
  {
    MetricsCsv csv(path, /*append=*/true, /*keep_through_epoch=*/2);
    csv.row({{"epoch", 3}, {"loss", 0.3}});
  }
  CHECK(read_file(path) == "epoch,loss\n1,1\n2,0.5\n3,0.3\n");
  std::remove(path.c_str());
  MetricsCsv full("/dev/full");
  CHECK_THROWS_WITH(full.row({{"epoch", 1}}), Catch::Contains("cannot write a row to '/dev/full'"));
}

TEST_CASE("option structs with values out of range are refused when the object is built", "[trainer][optim]") {
  ParameterStore<float> store;
  store.add("w", Shape{2});
  SGDOptions sgd;
  sgd.lr = 0.1;
  SGD<float> opt(store.all(), sgd);
  for (double bad : {std::nan(""), -1.0, std::numeric_limits<double>::infinity()}) {
    TrainerOptions o;
    o.clip_norm = bad;
    CHECK_THROWS_WITH((Trainer<float>(store, opt, o)), Catch::Contains("clip_norm must be finite and >= 0"));
  }
  AdamOptions a;
  a.eps = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(Adam<float>(store.all(), a), Catch::Contains("eps inf"));
  a = AdamOptions{};
  a.beta1 = std::nan("");
  CHECK_THROWS_WITH(Adam<float>(store.all(), a), Catch::Contains("beta1 nan"));
  SGDOptions s;
  s.momentum = std::nan("");
  CHECK_THROWS_WITH(SGD<float>(store.all(), s), Catch::Contains("momentum nan"));
  s = SGDOptions{};
  s.weight_decay = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(SGD<float>(store.all(), s), Catch::Contains("weight_decay inf"));
}
