// Gradient checkpointing: for classifier and tagger losses, tanh and relu, packed and full-length
// batches, dense features and token ids, float and double, every schedule (uniform segments of any
// length, binomial with few slots, budget plans) gives the loss and parameter gradients of full
// BPTT bitwise (memcmp), and its measured peak equals the dry-run estimate. Full BPTT here is
// record_full, the stepwise reference (one input GEMM per step); against the models' own
// forward/loss the gradients agree to rounding.
#include <catch2/catch.hpp>

#include <functional>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "data/batching.h"
#include "framework/memory/checkpointed.h"
#include "models/memory_problems.h"
#include "framework/memory/seeded_sum.h"
#include "framework/ops.h"
#include "framework/optim/optimizer.h"
#include "framework/rng.h"
#include "framework/trainer.h"

using namespace reel;
using namespace reel::memory;

namespace {

constexpr int64_t kFeat = 3, kVocab = 9, kEmbed = 4, kHidden = 6, kClasses = 4;

template <class T>
struct Data {
  SequenceBatch<T> batch;
  std::vector<int64_t> labels, tags;
};

template <class T>
Data<T> make_data(const std::vector<int64_t>& lengths, bool dense, uint64_t seed) {
  Rng rng(seed);
  Data<T> d;
  auto& b = d.batch;
  b.batch = static_cast<int64_t>(lengths.size());
  b.max_len = *std::max_element(lengths.begin(), lengths.end());
  b.lengths = lengths;
  b.features = dense ? kFeat : 0;
  if (dense) {
    b.values.resize(static_cast<size_t>(b.batch * b.max_len * kFeat));
    for (T& v : b.values) v = static_cast<T>(2 * rng.uniform() - 1);
  } else {
    b.ids.resize(static_cast<size_t>(b.batch * b.max_len));
    for (auto& v : b.ids) v = static_cast<int64_t>(rng.below(kVocab));
  }
  for (int64_t i = 0; i < b.batch; ++i) d.labels.push_back(static_cast<int64_t>(rng.below(kClasses)));
  d.tags.resize(static_cast<size_t>(b.batch * b.max_len));
  for (auto& v : d.tags) v = static_cast<int64_t>(rng.below(kClasses));
  return d;
}

SequenceModelConfig model_config(bool dense, const std::string& act, const std::string& cell = "rnn",
                                 int64_t layers = 1) {
  SequenceModelConfig c;
  c.cell = cell;
  c.num_layers = layers;
  if (dense) {
    c.input_dim = kFeat;
  } else {
    c.vocab_size = kVocab;
    c.embed_dim = kEmbed;
  }
  c.hidden_dim = kHidden;
  c.num_classes = kClasses;
  c.activation = act;
  return c;
}

template <class T>
std::vector<std::vector<T>> grads_of(ParameterStore<T>& store) {
  std::vector<std::vector<T>> g;
  for (auto* p : store.all()) g.push_back(p->grad);
  return g;
}

template <class T>
void require_bitwise(ParameterStore<T>& store, const std::vector<std::vector<T>>& got,
                     const std::vector<std::vector<T>>& want, const std::string& what) {
  const auto params = store.all();
  for (size_t k = 0; k < want.size(); ++k) {
    INFO(what << ": " << params[k]->name);
    double mx = 0, diff = 0;
    for (size_t i = 0; i < want[k].size(); ++i) {
      mx = std::max(mx, std::abs(static_cast<double>(want[k][i])));
      diff = std::max(diff, std::abs(static_cast<double>(got[k][i] - want[k][i])));
    }
    INFO("largest |difference| " << diff);
    CHECK(mx > 0);  // a zero gradient would make the comparison vacuous
    CHECK(std::memcmp(got[k].data(), want[k].data(), want[k].size() * sizeof(T)) == 0);
  }
}

template <class T>
std::vector<Plan> plans_for(const MemoryModel& m) {
  const int64_t Tn = m.steps();
  std::vector<Plan> plans{plan_uniform(m), plan_uniform(m, 1), plan_uniform(m, 3), plan_uniform(m, Tn),
                          plan_binomial(m, 0, 1), plan_binomial(m, 1, 1), plan_binomial(m, 2, 2)};
  // A budget between the smallest binomial plan and full BPTT.
  plans.push_back(plan_for_budget(m, (plans[5].peak_bytes + m.full_bptt()) / 3));
  return plans;
}

template <class T, class Model>
void check_problem(Model& model, ParameterStore<T>& store, const SequenceProblem<T>& p, const std::string& what) {
  Tape<T> tape;
  tape.set_retain_grads(true);  // the byte model counts one gradient buffer per node
  store.zero_grad();
  Var<T> loss = record_full(tape, p);
  tape.backward(loss);
  const T full_loss = loss.item();
  const auto want = grads_of(store);
  const MemoryModel m = memory_model(p);
  CHECK(tape.stats().peak_bytes == m.full_bptt());

  CheckpointedBPTT<T> exact(/*keep_gradients=*/true), recycling;
  for (const Plan& plan : plans_for<T>(m)) {
    INFO(what << ", plan " << plan.describe());
    for (CheckpointedBPTT<T>* ckpt : {&exact, &recycling}) {
      const bool keep = ckpt == &exact;
      INFO((keep ? "keeping gradients" : "recycling gradients"));
      store.zero_grad();
      const RunStats st = ckpt->run(tape, p, plan);
      const T got_loss = static_cast<T>(st.loss);
      CHECK(std::memcmp(&got_loss, &full_loss, sizeof(T)) == 0);
      require_bitwise(store, grads_of(store), want, what);
      CHECK(st.recorded_steps == p.steps());
      CHECK(st.recomputed_steps == plan.recomputed_steps);
      if (keep)
        CHECK(st.peak_bytes == plan.peak_bytes);  // the plan's figure, to the byte
      else
        CHECK(st.peak_bytes <= plan.peak_bytes);  // an upper bound
      CHECK(st.snapshot_peak_bytes == plan.snapshot_peak_bytes);
      CHECK(tape.retain_grads());  // the caller's setting is restored
    }
  }
  (void)model;
}

template <class T>
void check_all(const std::vector<int64_t>& lengths, bool dense, const std::string& act, uint64_t seed,
               const std::string& cell = "rnn", int64_t layers = 1) {
  const std::string what = cell + " x" + std::to_string(layers) + ", " + std::string(dense ? "dense" : "ids") + ", " + act + ", lengths " +
                           std::to_string(lengths.size()) + " x up to " +
                           std::to_string(*std::max_element(lengths.begin(), lengths.end()));
  Data<T> d = make_data<T>(lengths, dense, seed);
  {
    ParameterStore<T> store;
    Rng rng(seed + 1);
    SequenceClassifier<T> model(store, model_config(dense, act, cell, layers), rng);
    check_problem(model, store, classifier_problem(model, d.batch, d.labels), "classifier, " + what);
  }
  {
    ParameterStore<T> store;
    Rng rng(seed + 2);
    SequenceTagger<T> model(store, model_config(dense, act, cell, layers), rng);
    check_problem(model, store, tagger_problem(model, d.batch, d.tags), "tagger, " + what);
  }
}

}  // namespace

TEST_CASE("seeded_sum hands each term its weight and each seed its gradient, exactly", "[memory]") {
  Tape<float> tape;
  Var<float> a = tape.input(std::vector<float>{0.5f}, Shape{1}, true);
  Var<float> v = tape.input(std::vector<float>{1, 2, 3}, Shape{3}, true);
  const std::vector<float> c{0.1f, -0.3f, 7.25f};
  Var<float> y = seeded_sum<float>({a}, {0.375f}, {{v, c.data()}});
  CHECK(y.item() == Approx(0.375 * 0.5 + 0.1 - 0.6 + 21.75));
  tape.backward(y);
  CHECK(a.grad()[0] == 0.375f);
  for (int i = 0; i < 3; ++i) CHECK(v.grad()[i] == c[static_cast<size_t>(i)]);
  CHECK_THROWS_AS(seeded_sum<float>({}, {}, {}), UsageError);
  CHECK_THROWS_AS(seeded_sum<float>({a}, {}, {}), UsageError);
}

TEST_CASE("checkpointed BPTT equals full BPTT bitwise: full-length batches", "[memory]") {
  for (const char* act : {"tanh", "relu"}) {
    check_all<float>({11, 11, 11}, true, act, 10);
    check_all<double>({9, 9}, true, act, 11);
  }
  check_all<float>({10, 10, 10, 10}, false, "tanh", 12);
}

TEST_CASE("checkpointed BPTT equals full BPTT bitwise: packed batches of different lengths", "[memory]") {
  for (const char* act : {"tanh", "relu"}) {
    check_all<float>({13, 4, 9, 1, 13, 7}, true, act, 20);
    check_all<double>({5, 12, 3}, true, act, 21);
    check_all<float>({8, 2, 11, 6}, false, act, 22);
  }
}

TEST_CASE("checkpointed BPTT equals full BPTT bitwise for every cell and stacked layers; plans exact to the byte",
          "[memory][cells]") {
  for (const char* cell : {"lstm", "gru"})
    for (int64_t layers : {1, 2}) {
      check_all<float>({11, 11, 11}, true, "tanh", 70, cell, layers);
      check_all<double>({13, 4, 9, 1, 13}, true, "tanh", 71, cell, layers);
      check_all<float>({8, 2, 11, 6}, false, "tanh", 72, cell, layers);
    }
  check_all<float>({9, 3, 9, 5}, true, "relu", 73, "rnn", 2);
}

TEST_CASE("checkpointed BPTT equals full BPTT bitwise: a given h0, and step and final losses together", "[memory]") {
  Data<double> d = make_data<double>({10, 6, 10, 3}, true, 60);
  ParameterStore<double> store;
  Rng rng(61);
  SequenceTagger<double> model(store, model_config(true, "tanh"), rng);
  SequenceProblem<double> p = tagger_problem(model, d.batch, d.tags);
  // A classifier loss on the last states with the same head, beside the per-step loss.
  Parameter<double>* W = &store.at("head.W");
  Parameter<double>* b = &store.at("head.b");
  const PackInfo info = make_pack_info(d.batch.lengths);
  p.final_loss = [W, b, unsorted = info.unsorted_indices, labels = d.labels](Tape<double>& t, const Var<double>& f) {
    return cross_entropy(bias_add(matmul(gather_rows(f, unsorted), t.param(*W)), t.param(*b)), labels);
  };
  Rng h0rng(62);
  p.h0.resize(static_cast<size_t>(4 * kHidden));
  for (double& v : p.h0) v = h0rng.uniform() - 0.5;
  check_problem(model, store, p, "tagger + classifier losses, given h0");
}

namespace {
// The model's own loss (stock) and record_full of its stepwise problem: the same loss and every
// gradient to 1e-12 (the input projection sums in another order, so not bitwise).
void check_stepwise_agrees(ParameterStore<double>& store, const std::function<Var<double>(Tape<double>&)>& stock_loss,
                           const SequenceProblem<double>& problem) {
  Tape<double> tape;
  store.zero_grad();
  Var<double> stock = stock_loss(tape);
  tape.backward(stock);
  const double want_loss = stock.item();
  const auto want = grads_of(store);
  store.zero_grad();
  tape.clear();
  Var<double> mine = record_full(tape, problem);
  tape.backward(mine);
  CHECK(mine.item() == Approx(want_loss).epsilon(1e-12));
  const auto got = grads_of(store);
  double worst = 0;
  for (size_t k = 0; k < got.size(); ++k)
    for (size_t i = 0; i < got[k].size(); ++i)
      worst = std::max(worst, std::abs(got[k][i] - want[k][i]) / (1 + std::abs(want[k][i])));
  CHECK(worst < 1e-12);
}
}  // namespace

TEST_CASE("the stepwise form agrees with SequenceRunner::forward for every cell and 2 layers", "[memory][cells]") {
  Data<double> d = make_data<double>({7, 3, 7, 5}, true, 35);
  for (const char* cell : {"rnn", "lstm", "gru"})
    for (int64_t layers : {1, 2}) {
      INFO(cell << " x" << layers);
      ParameterStore<double> store;
      Rng rng(36);
      SequenceTagger<double> model(store, model_config(true, "tanh", cell, layers), rng);
      check_stepwise_agrees(store, [&](Tape<double>& t) { return model.loss(t, model.forward(t, d.batch), d.tags); },
                            tagger_problem(model, d.batch, d.tags));
    }
}

TEST_CASE("the stepwise reference agrees with the models' own forward and loss", "[memory]") {
  Data<double> d = make_data<double>({7, 3, 7, 5}, true, 30);
  {
    ParameterStore<double> store;
    Rng rng(31);
    SequenceClassifier<double> model(store, model_config(true, "tanh"), rng);
    check_stepwise_agrees(store, [&](Tape<double>& t) { return model.loss(t, model.logits(t, d.batch), d.labels); },
                          classifier_problem(model, d.batch, d.labels));
  }
  {
    ParameterStore<double> store;
    Rng rng(32);
    SequenceTagger<double> model(store, model_config(true, "relu"), rng);
    check_stepwise_agrees(store, [&](Tape<double>& t) { return model.loss(t, model.forward(t, d.batch), d.tags); },
                          tagger_problem(model, d.batch, d.tags));
  }
}

TEST_CASE("checkpointed BPTT trains through Trainer::step exactly like full BPTT", "[memory]") {
  Data<float> d = make_data<float>({12, 5, 12, 9}, true, 40);
  std::vector<std::vector<float>> params[2];
  for (int run = 0; run < 2; ++run) {
    ParameterStore<float> store;
    Rng rng(41);
    SequenceTagger<float> model(store, model_config(true, "tanh"), rng);
    SGDOptions so;
    so.lr = 0.1;
    so.momentum = 0.9;
    SGD<float> sgd(store.all(), so);
    TrainerOptions to;
    to.clip_norm = 0.5;
    Trainer<float> trainer(store, sgd, to);
    Tape<float> tape;
    const SequenceProblem<float> p = tagger_problem(model, d.batch, d.tags);
    const Plan plan = plan_uniform(memory_model(p), 3);
    CheckpointedBPTT<float> ckpt;
    for (int it = 0; it < 3; ++it) {
      if (run == 0)
        trainer.step(tape, [&](Tape<float>& t) { return record_full(t, p); });
      else
        trainer.step(tape, [&](Tape<float>& t) { return ckpt.run_as_loss(t, p, plan); });
    }
    for (auto* q : store.all()) params[run].push_back(q->value);
  }
  for (size_t k = 0; k < params[0].size(); ++k)
    CHECK(std::memcmp(params[0][k].data(), params[1][k].data(), params[0][k].size() * sizeof(float)) == 0);
}

TEST_CASE("checkpointed BPTT rejects a plan made for another length", "[memory]") {
  Data<float> d = make_data<float>({6, 6}, true, 50);
  ParameterStore<float> store;
  Rng rng(51);
  SequenceClassifier<float> model(store, model_config(true, "tanh"), rng);
  const SequenceProblem<float> p = classifier_problem(model, d.batch, d.labels);
  MemoryModel other = memory_model(p);
  other.batch_sizes.push_back(2);
  Tape<float> tape;
  CheckpointedBPTT<float> ckpt;
  CHECK_THROWS_AS(ckpt.run(tape, p, plan_uniform(other)), UsageError);
}
