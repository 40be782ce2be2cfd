// Checkpoints: round trips (float and double), strict and non-strict loading, models built from
// the file alone, bit-for-bit resume in one process and across processes, rotation.
// Bad files, kills during a save and fuzzing: test_checkpoint_robust.cpp; PyTorch:
// test_checkpoint_interop.cpp.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <limits>

#include "checkpoint_test_util.h"
#include "framework/checkpoint_manager.h"

using namespace reel;
using namespace ckpt_test;

namespace {

template <class T>
void fill(ParameterStore<T>& store, uint64_t seed) {
  Rng r(seed);
  for (auto* p : store.all())
    for (auto& v : p->value) v = static_cast<T>(r.normal());
}

template <class T>
void take_steps(ParameterStore<T>& store, Optimizer<T>& opt, int n, uint64_t seed) {
  Rng r(seed);
  for (int s = 0; s < n; ++s) {
    for (auto* p : store.all())
      for (auto& g : p->grad) g = static_cast<T>(r.normal());
    opt.step();
  }
}

template <class T>
void require_same(ParameterStore<T>& a, ParameterStore<T>& b) {
  REQUIRE(a.count() == b.count());
  for (auto* p : a.all()) {
    INFO(p->name);
    CHECK(same_bits(p->value, b.at(p->name).value));
  }
}

template <class T>
void require_same(Optimizer<T>& a, Optimizer<T>& b) {
  CHECK(a.steps() == b.steps());
  CHECK(a.lr() == b.lr());
  auto ba = a.buffers(), bb = b.buffers();
  REQUIRE(ba.size() == bb.size());
  for (size_t i = 0; i < ba.size(); ++i) {
    INFO(ba[i].kind << " " << ba[i].param);
    CHECK(ba[i].param == bb[i].param);
    CHECK(same_bits(*ba[i].values, *bb[i].values));
  }
}

}  // namespace

TEMPLATE_TEST_CASE("checkpoint round trip: parameters, optimizer, progress, config, vocabulary", "[checkpoint]", float, double) {
  using T = TestType;
  TempDir tmp;
  const std::string path = tmp.file("model.h5");
  const SequenceModelConfig cfg = tagger_config();
  Rng rng(1);
  ParameterStore<T> store;
  SequenceTagger<T> model(store, cfg, rng);
  AdamOptions ao;
  ao.lr = 0.003;
  Adam<T> adam(store.all(), ao);
  take_steps(store, adam, 3, 5);
  TrainingState st;
  st.epoch = 2;
  st.global_step = 17;
  st.batch_in_epoch = 4;
  st.best_dev = 0.8125;
  Rng a(11), b(12);
  a.normal();  // leaves a cached spare normal in the state
  st.rng = {{"init", a.state()}, {"shuffle", b.state()}};
  st.carried_hidden = {1.5f, -2.f, 0.25f, 4.f, 5.f, 6.f};
  st.carried_hidden_shape = Shape{2, 3};
  st.metrics = {{"train_loss", 0.123456789}, {"dev_accuracy", 0.75}};
  const Vocab vocab = Vocab::from_words({"<pad>", "<unk>", "the", "cat", "sat", "ünï"}, true);
  save_checkpoint(path, store, &adam, st, cfg, &vocab);

  ParameterStore<T> store2;
  Rng rng2(2);
  SequenceTagger<T> model2(store2, cfg, rng2);
  Adam<T> adam2(store2.all(), AdamOptions{});
  TrainingState st2;
  const LoadReport rep = load_checkpoint(path, model2, &adam2, &st2);
  CHECK(rep.skipped.empty());
  CHECK(rep.missing.empty());
  CHECK(rep.optimizer_loaded);
  CHECK(rep.state_loaded);
  CHECK(rep.loaded.size() == store.count() * 3);  // parameters + exp_avg + exp_avg_sq
  require_same(store, store2);
  require_same(adam, adam2);
  CHECK(st2.epoch == 2);
  CHECK(st2.global_step == 17);
  CHECK(st2.batch_in_epoch == 4);
  CHECK(st2.best_dev == 0.8125);
  CHECK(st2.rng == st.rng);
  Rng a2;
  a2.set_state(st2.rng.at("init"));
  CHECK(a2.normal() == a.normal());  // the spare normal survived
  CHECK(same_bits(st2.carried_hidden, st.carried_hidden));
  CHECK(st2.carried_hidden_shape == st.carried_hidden_shape);
  CHECK(st2.metrics == st.metrics);
  // The optimizer's own hyperparameters are recorded (no longer whatever the caller passed).
  CHECK(inspect_checkpoint(path).optimizer_hyperparameters == adam.hyperparameters());
  CHECK(adam.hyperparameters() == std::map<std::string, double>{{"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.0}});

  const SequenceModelConfig c2 = read_model_config(path);
  CHECK(c2.kind == "tagger");
  CHECK(c2.vocab_size == 6);
  CHECK(c2.embed_dim == 3);
  CHECK(c2.hidden_dim == 5);
  CHECK(c2.num_classes == 4);
  CHECK(c2.activation == "relu");
  const auto v2 = read_vocab(path);
  REQUIRE(v2);
  CHECK(v2->words() == vocab.words());
  CHECK(v2->lowercase());
  CHECK(read_checkpoint_dtype(path) == (std::is_same_v<T, float> ? "float32" : "float64"));

  const CheckpointSummary s = inspect_checkpoint(path);
  CHECK(s.sealed);
  CHECK(s.format_version == 2);
  CHECK(s.reel_version == REEL_VERSION);
  CHECK(s.optimizer_kind == "adam");
  CHECK(s.optimizer_steps == 3);
  CHECK(s.groups.at(kVocabGroup).get_strings("words").size() == 6);
  CHECK(s.parameter_count == store.num_elements());
  CHECK(s.tensors.size() == store.count() * 3 + 1);
}

TEST_CASE("checkpoint round trip: SGD momentum buffers and no optimizer at all", "[checkpoint]") {
  TempDir tmp;
  const SequenceModelConfig cfg = toy_config();
  Rng rng(3);
  ParameterStore<double> store;
  SequenceClassifier<double> model(store, cfg, rng);
  SGDOptions so;
  so.lr = 0.1;
  so.momentum = 0.9;
  SGD<double> sgd(store.all(), so);
  take_steps(store, sgd, 2, 8);
  save_checkpoint(tmp.file("sgd.h5"), store, &sgd, TrainingState{}, cfg);
  ParameterStore<double> store2;
  SequenceClassifier<double> model2(store2, cfg, rng);
  SGD<double> sgd2(store2.all(), so);
  load_checkpoint(tmp.file("sgd.h5"), model2, &sgd2, nullptr);
  require_same(store, store2);
  require_same(sgd, sgd2);

  // Saved without an optimizer: parameters load alone; asking for optimizer state is a mismatch.
  save_checkpoint(tmp.file("bare.h5"), store, static_cast<const Optimizer<double>*>(nullptr), TrainingState{}, cfg);
  ParameterStore<double> store3;
  SequenceClassifier<double> model3(store3, cfg, rng);
  SGD<double> sgd3(store3.all(), so);
  CHECK_NOTHROW(load_checkpoint(tmp.file("bare.h5"), model3, static_cast<Optimizer<double>*>(nullptr), nullptr));
  require_same(store, store3);
  CHECK_THROWS_WITH(load_checkpoint(tmp.file("bare.h5"), model3, &sgd3, nullptr), Catch::Contains("no optimizer state"));
  // An Adam checkpoint into SGD.
  Adam<double> adam(store.all(), AdamOptions{});
  save_checkpoint(tmp.file("adam.h5"), store, &adam, TrainingState{}, cfg);
  CHECK_THROWS_WITH(load_checkpoint(tmp.file("adam.h5"), model3, &sgd3, nullptr), Catch::Contains("a adam optimizer's state in the file, this optimizer is sgd"));
}

TEST_CASE("strict loading lists every mismatch by name with both shapes and changes nothing", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("m.h5");
  SequenceModelConfig small = toy_config(), big = toy_config();
  big.hidden_dim = 8;
  Rng rng(4);
  ParameterStore<float> a;
  SequenceClassifier<float> ma(a, small, rng);
  a.add("only_in_file", Shape{2, 2});
  save_checkpoint(path, a, static_cast<const Optimizer<float>*>(nullptr), TrainingState{}, small);

  ParameterStore<float> b;
  SequenceClassifier<float> mb(b, big, rng);
  b.add("only_in_model", Shape{3});
  std::vector<std::vector<float>> before;
  for (auto* p : b.all()) before.push_back(p->value);
  std::string msg;
  try {
    load_checkpoint(path, b, static_cast<Optimizer<float>*>(nullptr), nullptr);
  } catch (const CheckpointError& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK_THAT(msg, Catch::StartsWith(path));
  CHECK_THAT(msg, Catch::Contains("6 problems"));
  CHECK_THAT(msg, Catch::Contains("rnn.W_xh: shape (4, 6) in the file, (4, 8) in the model"));
  CHECK_THAT(msg, Catch::Contains("rnn.W_hh: shape (6, 6) in the file, (8, 8) in the model"));
  CHECK_THAT(msg, Catch::Contains("rnn.b_h: shape (6) in the file, (8) in the model"));
  CHECK_THAT(msg, Catch::Contains("head.W: shape (6, 3) in the file, (8, 3) in the model"));
  CHECK_THAT(msg, Catch::Contains("only_in_model: missing from the file (the model's shape is (3))"));
  CHECK_THAT(msg, Catch::Contains("only_in_file: in the file (shape (2, 2)) but not in the model"));
  size_t i = 0;
  for (auto* p : b.all()) CHECK(same_bits(p->value, before[i++]));  // all or nothing

  // Through the model: the configurations differ, which is reported first.
  CHECK_THROWS_WITH(load_checkpoint(path, mb, static_cast<Optimizer<float>*>(nullptr), nullptr),
                    Catch::Contains("hidden_dim 6 in the file, 8 in the model"));

  SECTION("not strict: loads what matches, reports the rest") {
    const LoadReport rep = load_checkpoint(path, b, static_cast<Optimizer<float>*>(nullptr), nullptr, false);
    CHECK(rep.loaded == std::vector<std::string>{"head.b"});
    CHECK(rep.skipped == std::vector<std::string>{"rnn.W_xh", "rnn.W_hh", "rnn.b_h", "head.W", "only_in_file"});
    CHECK(rep.missing == std::vector<std::string>{"only_in_model"});
    CHECK(rep.problems.size() == 6);
    CHECK(same_bits(b.at("head.b").value, a.at("head.b").value));
    CHECK(same_bits(b.at("rnn.W_hh").value, before[1]));
  }
}

TEST_CASE("a model built from the checkpoint's configuration alone", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("tagger.h5");
  const SequenceModelConfig cfg = tagger_config();
  Rng rng(6);
  ParameterStore<float> store;
  SequenceTagger<float> model(store, cfg, rng);
  const Vocab vocab = Vocab::from_words({"<pad>", "<unk>", "a", "b", "c", "d"});
  TrainingState st;
  st.epoch = 3;
  save_checkpoint(path, store, static_cast<const Optimizer<float>*>(nullptr), st, cfg, &vocab);

  LoadedModel<float> m = load_model<float>(path);
  REQUIRE(m.tagger);
  CHECK_FALSE(m.classifier);
  CHECK(m.config.kind == "tagger");
  CHECK(m.state.epoch == 3);
  REQUIRE(m.vocab);
  CHECK(m.vocab->words() == vocab.words());
  require_same(store, *m.store);
  require_same_tagger_output(model, *m.tagger);
  CHECK_THROWS_WITH(load_model<double>(path), Catch::Contains("holds float32 values"));
  // A classifier checkpoint loaded into a tagger of the same dimensions: same tensors, other model.
  SequenceModelConfig ccfg = cfg;
  ccfg.kind = "classifier";
  save_checkpoint(tmp.file("clf.h5"), store, static_cast<const Optimizer<float>*>(nullptr), st, ccfg);
  CHECK_THROWS_WITH(load_checkpoint(tmp.file("clf.h5"), model, static_cast<Optimizer<float>*>(nullptr), nullptr),
                    Catch::Contains("a checkpoint of another model (a classifier, loaded into a tagger)"));
  CHECK(load_model<float>(tmp.file("clf.h5")).classifier);
}

TEST_CASE("resume is bit for bit in the same process", "[checkpoint]") {
  TempDir tmp;
  for (const int64_t n : {7, 10}) {  // mid-epoch (5 batches an epoch) and at an epoch end
    const int64_t m = 9;
    ToyRun whole(21);
    whole.train(n + m);
    ToyRun first(21);
    first.train(n);
    first.save(tmp.file("resume.h5"));
    ToyRun second(4242);  // other initial weights and shuffle: everything must come from the file
    second.load(tmp.file("resume.h5"));
    second.train(m);
    INFO("N = " << n);
    require_same(whole.store, second.store);
    require_same(*whole.adam, *second.adam);
    CHECK(same_bits(std::vector<double>(whole.losses.end() - m, whole.losses.end()), second.losses));
    CHECK(whole.st.metrics == second.st.metrics);
    CHECK(whole.snapshot().rng == second.snapshot().rng);
    CHECK(whole.st.global_step == second.st.global_step);
  }
}

TEST_CASE("resume is bit for bit across processes", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("child.h5");
  const int64_t n = 8, m = 7;
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // child: train N, save, leave without returning into Catch
    int code = 0;
    try {
      ToyRun first(33);
      first.train(n);
      first.save(path);
    } catch (...) {
      code = 1;
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  ToyRun second(1);
  second.load(path);
  second.train(m);
  ToyRun whole(33);
  whole.train(n + m);
  require_same(whole.store, second.store);
  require_same(*whole.adam, *second.adam);
  CHECK(same_bits(std::vector<double>(whole.losses.end() - m, whole.losses.end()), second.losses));
  CHECK(whole.st.metrics == second.st.metrics);
}

TEST_CASE("CheckpointManager keeps the last K and the best", "[checkpoint]") {
  TempDir tmp;
  ToyRun run(5);
  CheckpointManager mgr(tmp.file("run.h5"), 2);
  double best_loss = 1e9;
  for (int epoch = 1; epoch <= 4; ++epoch) {
    run.train(5);
    const double loss = epoch == 2 ? 0.01 : 1.0 * epoch;  // epoch 2 is the best
    const bool is_best = loss < best_loss;
    best_loss = std::min(best_loss, loss);
    mgr.save(run.store, run.adam.get(), run.snapshot(), model_groups(run.config), is_best);
  }
  CHECK(mgr.kept() == std::vector<std::string>{tmp.file("run.step15.h5"), tmp.file("run.step20.h5")});
  CHECK(read_training_state(mgr.path()).global_step == 20);
  CHECK(read_training_state(mgr.best_path()).global_step == 10);
  CHECK(read_training_state(tmp.file("run.step15.h5")).global_step == 15);
  CHECK_FALSE(fs::exists(tmp.file("run.step10.h5")));
  // Only the checkpoints are left: no temporary files.
  int files = 0;
  for (const auto& e : fs::directory_iterator(tmp.dir)) files += e.path().filename().string()[0] != '.';
  CHECK(files == 4);
  CHECK(std::distance(fs::directory_iterator(tmp.dir), fs::directory_iterator()) == 4);
}

TEST_CASE("no optimizer needs no cast: load_checkpoint(path, store, nullptr, nullptr), or just (path, store)", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("plain.h5"), with_adam = tmp.file("adam.h5");
  const SequenceModelConfig c = toy_config();
  Rng rng(5);
  ParameterStore<float> a;
  SequenceClassifier<float> ma(a, c, rng);
  fill(a, 3);
  TrainingState st;
  st.epoch = 2;
  st.global_step = 7;
  save_checkpoint(path, a, nullptr, st, c);  // saving without an optimizer: no cast either

  // The call that did not compile (no T could be deduced from nullptr).
  ParameterStore<float> b;
  SequenceClassifier<float> mb(b, c, rng);
  const LoadReport r = load_checkpoint(path, b, nullptr, nullptr);
  CHECK_FALSE(r.optimizer_loaded);
  CHECK_FALSE(r.state_loaded);
  CHECK(r.loaded.size() == a.count());
  require_same(a, b);
  CHECK(load_checkpoint(path, b, nullptr, nullptr, false).problems.empty());  // and not strict

  // Both default to nullptr, for the store and for the model.
  ParameterStore<float> d;
  SequenceClassifier<float> md(d, c, rng);
  CHECK(load_checkpoint(path, d).loaded.size() == a.count());
  require_same(a, d);
  ParameterStore<float> e;
  SequenceClassifier<float> me(e, c, rng);
  CHECK_FALSE(load_checkpoint(path, me).optimizer_loaded);
  require_same(a, e);
  TrainingState got;
  CHECK(load_checkpoint(path, me, nullptr, &got).state_loaded);  // progress, no optimizer
  CHECK(got.global_step == 7);
  CHECK(got.epoch == 2);

  // An optimizer still goes by address, as the derived type (Adam<float>*), into both forms.
  Adam<float> adam(a.all(), AdamOptions{});
  take_steps(a, adam, 2, 9);
  save_checkpoint(with_adam, a, &adam, st, c);
  Adam<float> adam_b(b.all(), AdamOptions{});
  CHECK(load_checkpoint(with_adam, mb, &adam_b, nullptr).optimizer_loaded);
  require_same(adam, adam_b);
  Adam<float> adam_d(d.all(), AdamOptions{});
  CHECK(load_checkpoint(with_adam, d, &adam_d).optimizer_loaded);
  require_same(a, d);

  // The manager's save takes nullptr too.
  CheckpointManager mgr(tmp.file("run.h5"));
  mgr.save(a, nullptr, st, model_groups(c), false);
  ParameterStore<float> f;
  SequenceClassifier<float> mf(f, c, rng);
  load_checkpoint(mgr.path(), mf);
  require_same(a, f);
}

TEST_CASE("A parameter that is not finite is never saved: the files saved before stay", "[checkpoint]") {
  ckpt_test::TempDir tmp;
  ParameterStore<float> store;
  Parameter<float>& w = store.add("rnn.W_hh", Shape{2, 2});
  w.value = {1, 2, 3, 4};
  CheckpointPolicy policy;
  policy.best_metric = "acc";
  CheckpointManager ckpt(tmp.file("run.h5"), policy);
  TrainingState st;
  st.metrics = {{"acc", 0.5}};
  ckpt.save(store, nullptr, st, {});
  w.value[3] = std::numeric_limits<float>::infinity();  // as Adam with --lr 1e38 leaves it
  st.global_step = 7;
  st.metrics = {{"acc", 0.9}};
  CHECK_THROWS_WITH(ckpt.save(store, nullptr, st, {}), Catch::Contains("not saved: parameter 'rnn.W_hh' holds Inf at element 3"));
  CHECK(read_training_state(tmp.file("run.h5")).global_step == 0);  // the last good file, as latest and as best
  CHECK(read_training_state(ckpt.best_path()).global_step == 0);
}
