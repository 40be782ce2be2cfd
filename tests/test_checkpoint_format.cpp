// Checkpoint format details: generic attribute groups, the optimizer's hyperparameters (saved,
// checked on resume), format versions (a version 1 file of reel 0.1 loads as the vanilla model it
// holds; other versions are refused with what to do).
#include <catch2/catch.hpp>

#include "checkpoint_test_util.h"
#include "framework/checkpoint_file.h"
#include "framework/hdf5_file.h"
#include "models/cell_registry.h"

using namespace reel;
using namespace ckpt_test;

namespace {

template <class T>
void fill_grads_and_step(ParameterStore<T>& store, Optimizer<T>& opt, int n, uint64_t seed) {
  Rng r(seed);
  for (int s = 0; s < n; ++s) {
    for (auto* p : store.all())
      for (auto& g : p->grad) g = static_cast<T>(r.normal());
    opt.step();
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// A checkpoint as reel 0.1 wrote it (format_version 1): /config without cell, num_layers and
// bidirectional; /optimizer with the hyperparameters its caller passed (here beta1 and beta2 only).
void write_v1_file(const std::string& path, const ParameterStore<float>& store, const Vocab& vocab) {
  h5::File f = h5::File::create(path, checkpoint_file::kSealBytes);
  f.set_attr("format", "reel-checkpoint");
  f.set_attr("format_version", int64_t{1});
  f.set_attr("reel_version", "0.1.0");
  f.set_attr("dtype", "float32");
  h5::Location c = f.create_group("config");
  const SequenceModelConfig cfg = tagger_config();
  c.set_attr("kind", cfg.kind);
  for (const auto& [k, v] : std::map<std::string, int64_t>{{"input_dim", 0}, {"vocab_size", cfg.vocab_size}, {"embed_dim", cfg.embed_dim},
                                                          {"hidden_dim", cfg.hidden_dim}, {"num_classes", cfg.num_classes}})
    c.set_attr(k, v);
  c.set_attr("activation", cfg.activation);
  h5::Location params = f.create_group("parameters"), opt = f.create_group("optimizer");
  opt.set_attr("kind", "adam");
  opt.set_attr("lr", 0.002);
  opt.set_attr("steps", int64_t{3});
  opt.set_attr("beta1", 0.9);
  opt.set_attr("beta2", 0.999);
  for (const auto* p : store.all()) {
    std::vector<int64_t> dims;
    for (int i = 0; i < p->shape.rank; ++i) dims.push_back(p->shape[i]);
    params.write(p->name, dims, p->value.data());
    std::vector<float> m(p->value.size(), 0.125f), v(p->value.size(), 0.5f);
    opt.require_group("exp_avg").write(p->name, dims, m.data());
    opt.require_group("exp_avg_sq").write(p->name, dims, v.data());
  }
  h5::Location progress = f.create_group("progress");
  progress.set_attr("epoch", int64_t{2});
  progress.set_attr("global_step", int64_t{3});
  progress.set_attr("batch_in_epoch", int64_t{0});
  progress.set_attr("best_dev", 0.5);
  const std::array<uint64_t, 6> rng{1, 2, 3, 4, 0, 0};
  progress.create_group("rng").write("shuffle", {6}, rng.data());
  progress.create_group("metrics").set_attr("dev_accuracy", 0.5);
  std::string joined;
  for (const auto& w : vocab.words()) joined += (joined.empty() ? "" : "\n") + w;
  h5::Location v = f.create_group("vocab");
  v.write("words", {static_cast<int64_t>(joined.size())}, reinterpret_cast<const uint8_t*>(joined.data()));
  v.set_attr("size", vocab.size());
  v.set_attr("lowercase", int64_t{0});
  f.close();
  checkpoint_file::seal(path);
}

}  // namespace

TEST_CASE("attribute groups: stored and read back without interpretation", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("groups.h5");
  ParameterStore<float> store;
  store.add("w", Shape{2});
  AttributeGroup g;
  g.set("n", 3).set("x", 0.25).set("name", "übung").set("flag", true);
  g.set_strings("list", {"a", "b c", "ü", ""}).set_strings("empty", {});
  save_checkpoint(path, store, static_cast<const Optimizer<float>*>(nullptr), TrainingState{}, {{"mine", g}});

  const CheckpointMeta meta = read_checkpoint_meta(path);
  CHECK(meta.format_version == kCheckpointFormatVersion);
  CHECK(meta.dtype == "float32");
  REQUIRE(meta.groups.size() == 1);
  const AttributeGroup& r = meta.group("mine");
  CHECK(r == g);
  CHECK(r.get_int("n") == 3);
  CHECK(r.get_double("n") == 3.0);
  CHECK(r.get_double("x") == 0.25);
  CHECK(r.get_string("name") == "übung");
  CHECK(r.get_int("flag") == 1);
  CHECK(r.get_strings("list") == std::vector<std::string>{"a", "b c", "ü", ""});
  CHECK(r.get_strings("empty").empty());
  CHECK_THROWS_WITH(r.get_int("name"), Catch::StartsWith(path + ":/mine@name: expected an integer, found a string"));
  CHECK_THROWS_WITH(r.get_string("missing"), Catch::StartsWith(path + ":/mine@missing: no such attribute"));
  CHECK_THROWS_WITH(meta.group("config"), Catch::StartsWith(path + ": the /config group is missing"));
  CHECK(inspect_checkpoint(path).groups.at("mine") == g);
  CHECK(to_string(AttributeValue{0.001}) == "0.001");
  CHECK(to_string(AttributeValue{std::string("lstm")}) == "'lstm'");

  const TrainingState none;
  const Optimizer<float>* no_opt = nullptr;
  CHECK_THROWS_WITH(save_checkpoint(path, store, no_opt, none, {{"parameters", g}}), Catch::Contains("'parameters' is the framework's own"));
  CHECK_THROWS_AS(save_checkpoint(path, store, no_opt, none, {{"a/b", g}}), UsageError);
  CHECK_THROWS_AS(AttributeGroup().set_strings("l", {"a\nb"}), UsageError);
  CHECK_THROWS_AS(AttributeGroup().set_strings("l", {""}), UsageError);
  CHECK(read_checkpoint_meta(path).group("mine") == g);  // the refused saves left the file alone
}

TEST_CASE("the optimizer's own hyperparameters are saved and checked on resume", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("adam.h5");
  const SequenceModelConfig cfg = toy_config();
  Rng rng(3);
  ParameterStore<float> store;
  SequenceClassifier<float> model(store, cfg, rng);
  AdamOptions o;
  o.lr = 0.01;
  o.beta2 = 0.99;
  o.weight_decay = 0.01;
  Adam<float> adam(store.all(), o);
  fill_grads_and_step(store, adam, 2, 4);
  save_checkpoint(path, store, &adam, TrainingState{}, cfg);
  CHECK(inspect_checkpoint(path).optimizer_hyperparameters ==
        std::map<std::string, double>{{"beta1", 0.9}, {"beta2", 0.99}, {"eps", 1e-8}, {"weight_decay", 0.01}});

  ParameterStore<float> s2;
  SequenceClassifier<float> m2(s2, cfg, rng);
  Adam<float> same(s2.all(), o);
  CHECK(load_checkpoint(path, m2, &same, nullptr).optimizer_loaded);
  CHECK(same.steps() == 2);

  // Other hyperparameters: strict refuses, naming each difference, and changes nothing.
  ParameterStore<float> s3;
  SequenceClassifier<float> m3(s3, cfg, rng);
  Adam<float> other(s3.all(), AdamOptions{});
  const std::vector<float> before = s3.at("rnn.W_hh").value;
  const std::string msg = error_of([&] { load_checkpoint(path, m3, &other, nullptr); });
  INFO(msg);
  CHECK_THAT(msg, Catch::StartsWith(path) && Catch::Contains("2 problems"));
  CHECK_THAT(msg, Catch::Contains("optimizer@beta2: 0.99 in the file, 0.999 in this optimizer"));
  CHECK_THAT(msg, Catch::Contains("optimizer@weight_decay: 0.01 in the file, 0 in this optimizer"));
  CHECK(other.steps() == 0);
  CHECK(same_bits(s3.at("rnn.W_hh").value, before));
  // Not strict: parameters, buffers, steps and lr load; the optimizer keeps its hyperparameters.
  const LoadReport rep = load_checkpoint(path, m3, &other, nullptr, false);
  CHECK(rep.optimizer_loaded);
  CHECK(rep.skipped == std::vector<std::string>{"optimizer@beta2", "optimizer@weight_decay"});
  CHECK(other.steps() == 2);
  CHECK(other.lr() == 0.01);
  CHECK(other.hyperparameters() == Adam<float>(s3.all(), AdamOptions{}).hyperparameters());
}

TEST_CASE("SGD's hyperparameters: momentum, dampening, weight_decay, nesterov (0/1)", "[checkpoint]") {
  TempDir tmp;
  const SequenceModelConfig cfg = toy_config();
  Rng rng(5);
  ParameterStore<float> store, s3;
  SequenceClassifier<float> model(store, cfg, rng), m3(s3, cfg, rng);
  SGDOptions so;
  so.lr = 0.1;
  so.momentum = 0.9;
  so.nesterov = true;
  SGD<float> sgd(store.all(), so);
  fill_grads_and_step(store, sgd, 1, 5);
  save_checkpoint(tmp.file("sgd.h5"), store, &sgd, TrainingState{}, cfg);
  CHECK(inspect_checkpoint(tmp.file("sgd.h5")).optimizer_hyperparameters ==
        std::map<std::string, double>{{"momentum", 0.9}, {"dampening", 0.0}, {"weight_decay", 0.0}, {"nesterov", 1.0}});
  so.nesterov = false;
  SGD<float> plain(s3.all(), so);
  CHECK_THROWS_WITH(load_checkpoint(tmp.file("sgd.h5"), m3, &plain, nullptr),
                    Catch::Contains("1 problem):") && Catch::Contains("optimizer@nesterov: 1 in the file, 0 in this optimizer"));
}

TEST_CASE("a format_version 1 file (reel 0.1) loads as the one-layer vanilla model it holds", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("v1.h5");
  Rng rng(12);
  ParameterStore<float> store;
  SequenceTagger<float> reference(store, tagger_config(), rng);
  for (auto& v : store.at("rnn.b_h").value) v = static_cast<float>(0.1 * rng.normal());
  const Vocab vocab = Vocab::from_words({"<pad>", "<unk>", "a", "b", "c", "d"});
  write_v1_file(path, store, vocab);

  CHECK(inspect_checkpoint(path).format_version == 1);
  const SequenceModelConfig c = read_model_config(path);
  CHECK(c.cell == "rnn");
  CHECK(c.num_layers == 1);
  CHECK_FALSE(c.bidirectional);
  CHECK(c.activation == "relu");
  LoadedModel<float> m = load_model<float>(path);
  REQUIRE(m.tagger);
  CHECK(m.format_version == 1);
  CHECK(m.state.epoch == 2);
  REQUIRE(m.vocab);
  CHECK(m.vocab->words() == vocab.words());
  require_same_tagger_output(reference, *m.tagger);

  // Resuming from it: version 1 recorded only the hyperparameters its caller passed, so they are
  // not checked; buffers, steps and lr load.
  ParameterStore<float> s2;
  SequenceTagger<float> model(s2, tagger_config(), rng);
  AdamOptions ao;
  ao.beta2 = 0.98;
  Adam<float> adam(s2.all(), ao);
  TrainingState st;
  const LoadReport rep = load_checkpoint(path, model, &adam, &st);
  CHECK(rep.optimizer_loaded);
  CHECK(adam.steps() == 3);
  CHECK(adam.lr() == 0.002);
  CHECK(st.rng.at("shuffle")[0] == 1);
  // Into another cell: the configuration says which field differs.
  SequenceModelConfig lstm = tagger_config();
  lstm.cell = "lstm";
  ParameterStore<float> s3;
  SequenceTagger<float> lstm_model(s3, lstm, rng);
  CHECK_THROWS_WITH(load_checkpoint(path, lstm_model, static_cast<Optimizer<float>*>(nullptr), nullptr),
                    Catch::Contains("cell 'rnn' in the file, 'lstm' in the model"));
}

TEST_CASE("format versions: version 2 requires the runner fields; others are refused with what to do", "[checkpoint]") {
  TempDir tmp;
  const std::string path = tmp.file("m.h5");
  SequenceModelConfig cfg = toy_config();
  cfg.cell = "gru";
  cfg.num_layers = 2;
  cfg.bidirectional = true;
  Rng rng(2);
  ParameterStore<float> store;
  SequenceClassifier<float> model(store, cfg, rng);
  save_checkpoint(path, store, static_cast<const Optimizer<float>*>(nullptr), TrainingState{}, cfg);
  const LoadedModel<float> m = load_model<float>(path);
  CHECK(m.config.cell == "gru");
  CHECK(m.config.num_layers == 2);
  CHECK(m.config.bidirectional);
  CHECK(m.store->count() == store.count());

  auto edit = [&](const std::string& name, const std::function<void(h5::File&)>& fn) {
    const std::string p = tmp.file(name);
    save_checkpoint(p, store, static_cast<const Optimizer<float>*>(nullptr), TrainingState{}, cfg);
    h5::File f = h5::File::open(p, true);
    fn(f);
    f.close();
    checkpoint_file::seal(p);
    return p;
  };
  const std::string nocell = edit("nocell.h5", [](h5::File& f) { f.group("config").remove_attr("cell"); });
  CHECK_THROWS_WITH(load_model<float>(nocell), Catch::StartsWith(nocell + ":/config@cell: missing (required since format_version 2"));
  const std::string v3 = edit("v3.h5", [](h5::File& f) { f.set_attr("format_version", int64_t{3}); });
  CHECK_THROWS_WITH(load_model<float>(v3), Catch::StartsWith(v3 + ": unsupported format_version 3") &&
                                               Catch::Contains("it comes from a newer reel") && Catch::Contains("read it with that release or a later one"));
  const std::string v0 = edit("v0.h5", [](h5::File& f) { f.set_attr("format_version", int64_t{0}); });
  CHECK_THROWS_WITH(read_training_state(v0), Catch::Contains("unsupported format_version 0") && Catch::Contains("no reel writes such a file"));
}

TEST_CASE("a model of a user's cell is rebuilt from its checkpoint by the cell's name", "[checkpoint]") {
  if (!has_cell("mingru")) {
    WARN("SKIPPED: no 'mingru' cell registered (tests/min_gru_cell.cpp)");
    return;
  }
  TempDir tmp;
  const std::string path = tmp.file("mingru.h5");
  SequenceModelConfig cfg = tagger_config();
  cfg.cell = "mingru";
  cfg.num_layers = 2;
  cfg.bidirectional = true;
  Rng rng(31);
  ParameterStore<float> store;
  SequenceTagger<float> model(store, cfg, rng);
  const Vocab vocab = Vocab::from_words({"<pad>", "<unk>", "a", "b", "c", "d"});
  save_checkpoint(path, store, static_cast<const Optimizer<float>*>(nullptr), TrainingState{}, cfg, &vocab);
  LoadedModel<float> m = load_model<float>(path);
  REQUIRE(m.tagger);
  CHECK(m.config.cell == "mingru");
  CHECK(m.store->at("rnn.l1_reverse.W_hh").shape == Shape{5, 10});
  require_same_tagger_output(model, *m.tagger);
}
