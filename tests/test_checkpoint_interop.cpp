// reel checkpoints <-> PyTorch through tools/torch_interop.py (Debian python3-torch, python3-h5py
// at /usr/bin/python3; the test warns and skips when they are missing).
//  * reel -> PyTorch: C++ saves a classifier (dense input) and a tagger (embedding, relu) and an
//    inputs file; the tool imports both into nn.RNN + nn.Linear and writes its outputs; they must
//    match reel's own forward pass (packed, variable lengths).
//  * PyTorch -> reel: the tool exports a fresh PyTorch model and its outputs on random inputs; C++
//    builds the model from the checkpoint alone and must produce the same outputs.
//  * the same both ways for LSTM and GRU cells, 2 layers and two directions (nn.LSTM / nn.GRU /
//    nn.RNN with num_layers, bidirectional).
// Agreement: max |reel - torch| / max(1, |torch|) <= 1e-5 over every output (float32).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "checkpoint_test_util.h"
#include "framework/hdf5_file.h"

using namespace reel;
using namespace ckpt_test;

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kTool = std::string(REEL_SOURCE_DIR) + "/tools/torch_interop.py";

bool torch_available() {
  static const bool ok = std::system((kPython + " -c 'import torch, h5py' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

int run(const std::string& args, const TempDir& tmp) {
  const std::string log = tmp.file("python.log");
  const int rc = std::system((kPython + " " + kTool + " " + args + " >" + log + " 2>&1").c_str());
  if (rc != 0) {
    std::ifstream in(log);
    FAIL_CHECK("torch_interop.py " << args << " failed:\n" << std::string(std::istreambuf_iterator<char>(in), {}));
  }
  return rc;
}

// reel's outputs for a batch: (B, C) for a classifier, (B, T, C) zero-padded for a tagger.
std::vector<float> reel_outputs(LoadedModel<float>& m, const SequenceBatch<float>& b) {
  Tape<float> tape;
  const int64_t c = m.config.num_classes;
  if (m.classifier) {
    Var<float> l = m.classifier->logits(tape, b);
    return std::vector<float>(l.data(), l.data() + l.size());
  }
  const TaggerOutput<float> o = m.tagger->forward(tape, b);
  std::vector<float> out(static_cast<size_t>(b.batch * b.max_len * c), 0.f);
  for (size_t k = 0; k < o.rows.size(); ++k)
    if (o.mask[k] != 0) std::copy_n(o.logits.data() + static_cast<int64_t>(k) * c, c, out.begin() + o.rows[k] * c);
  return out;
}

void write_inputs(const std::string& path, const SequenceBatch<float>& b) {
  h5::File f = h5::File::create(path);
  if (b.features > 0) f.write("x", {b.batch, b.max_len, b.features}, b.values.data());
  else f.write("ids", {b.batch, b.max_len}, b.ids.data());
  f.write("lengths", {b.batch}, b.lengths.data());
  f.close();
}

SequenceBatch<float> read_inputs(const std::string& path) {
  h5::File f = h5::File::open(path);
  SequenceBatch<float> b;
  const bool ids = f.has("ids");
  const h5::DatasetInfo inf = f.info(ids ? "ids" : "x");
  b.batch = inf.dims[0];
  b.max_len = inf.dims[1];
  b.features = ids ? 0 : inf.dims[2];
  if (ids) {
    b.ids.resize(static_cast<size_t>(inf.elements()));
    f.read("ids", b.ids.data(), inf.elements());
  } else {
    b.values.resize(static_cast<size_t>(inf.elements()));
    f.read("x", b.values.data(), inf.elements());
  }
  b.lengths.resize(static_cast<size_t>(b.batch));
  f.read("lengths", b.lengths.data(), b.batch);
  return b;
}

void compare(const std::vector<float>& got, const std::string& torch_file) {
  h5::File f = h5::File::open(torch_file);
  const h5::DatasetInfo inf = f.info("logits");
  REQUIRE(inf.elements() == static_cast<int64_t>(got.size()));
  std::vector<double> want(got.size());
  f.read("logits", want.data(), inf.elements());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(1.0, std::abs(want[i])));
  INFO(torch_file << ": max relative difference " << worst << " over " << got.size() << " outputs");
  CHECK(worst <= 1e-5);
}

}  // namespace

TEST_CASE("checkpoints move between reel and PyTorch with the same outputs", "[checkpoint][interop]") {
  if (!torch_available()) {
    WARN("SKIPPED: " << kPython << " cannot import torch and h5py (apt-get install python3-torch python3-h5py)");
    return;
  }
  TempDir tmp;

  SECTION("reel -> PyTorch") {
    ToyData data(9, 5);
    std::vector<int64_t> idx = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    // A classifier with dense input, trained a few steps so nothing is at its initial value.
    ToyRun clf(3);
    clf.train(6);
    clf.save(tmp.file("clf.h5"));
    const SequenceBatch<float> cb = data.batch(idx);
    write_inputs(tmp.file("clf_in.h5"), cb);
    // A tagger with an embedding and relu.
    SequenceModelConfig tc;
    tc.kind = "tagger";
    tc.vocab_size = 30;
    tc.embed_dim = 5;
    tc.hidden_dim = 7;
    tc.num_classes = 4;
    tc.activation = "relu";
    Rng rng(8);
    ParameterStore<float> ts;
    SequenceTagger<float> tagger(ts, tc, rng);
    for (auto& v : ts.at("rnn.b_h").value) v = static_cast<float>(0.1 * rng.normal());
    save_checkpoint(tmp.file("tag.h5"), ts, static_cast<const Optimizer<float>*>(nullptr), TrainingState{}, tc);
    SequenceBatch<float> tb;
    tb.batch = 4;
    tb.max_len = 6;
    tb.lengths = {6, 2, 5, 1};
    for (int64_t i = 0; i < tb.batch * tb.max_len; ++i) tb.ids.push_back(static_cast<int64_t>(rng.below(30)));
    write_inputs(tmp.file("tag_in.h5"), tb);

    REQUIRE(run("import --checkpoint " + tmp.file("clf.h5") + " --inputs " + tmp.file("clf_in.h5") + " --out " + tmp.file("clf_out.h5") +
                    " --checkpoint " + tmp.file("tag.h5") + " --inputs " + tmp.file("tag_in.h5") + " --out " + tmp.file("tag_out.h5"),
                tmp) == 0);
    LoadedModel<float> mc = load_model<float>(tmp.file("clf.h5"));
    compare(reel_outputs(mc, cb), tmp.file("clf_out.h5"));
    LoadedModel<float> mt = load_model<float>(tmp.file("tag.h5"));
    compare(reel_outputs(mt, tb), tmp.file("tag_out.h5"));
  }

  SECTION("PyTorch -> reel") {
    for (const std::string kind : {"classifier", "tagger"}) {
      const std::string ck = tmp.file(kind + "_torch.h5"), io = tmp.file(kind + "_io.h5");
      const std::string spec = kind == "classifier" ? "--kind classifier --input-dim 5 --hidden 9 --classes 3 --seed 4"
                                                    : "--kind tagger --vocab-size 25 --embed-dim 6 --hidden 8 --classes 5 --activation relu --seed 5";
      REQUIRE(run("export --out " + ck + " " + spec + " --sample " + io + " --batch 5 --time 7", tmp) == 0);
      INFO(kind);
      const CheckpointSummary s = inspect_checkpoint(ck);
      CHECK(s.sealed);
      CHECK(model_config_of(s).kind == kind);
      LoadedModel<float> m = load_model<float>(ck);
      compare(reel_outputs(m, read_inputs(io)), io);
    }
  }
}

namespace {

// A random batch for cfg: token ids or dense features, variable lengths (the first one full).
SequenceBatch<float> random_batch(const SequenceModelConfig& cfg, Rng& rng) {
  SequenceBatch<float> b;
  b.batch = 5;
  b.max_len = 6;
  b.lengths = {6, 2, 5, 1, 4};
  if (cfg.vocab_size > 0) {
    for (int64_t i = 0; i < b.batch * b.max_len; ++i) b.ids.push_back(static_cast<int64_t>(rng.below(static_cast<uint64_t>(cfg.vocab_size))));
  } else {
    b.features = cfg.input_dim;
    for (int64_t i = 0; i < b.batch * b.max_len * b.features; ++i) b.values.push_back(static_cast<float>(rng.normal()));
  }
  return b;
}

SequenceModelConfig model(const std::string& kind, const std::string& cell, int64_t layers, bool bidirectional) {
  SequenceModelConfig c;
  c.kind = kind;
  if (kind == "tagger") {
    c.vocab_size = 20;
    c.embed_dim = 4;
  } else {
    c.input_dim = 3;
  }
  c.hidden_dim = 5;
  c.num_classes = 4;
  c.cell = cell;
  c.num_layers = layers;
  c.bidirectional = bidirectional;
  return c;
}

using Cases = std::vector<std::pair<std::string, SequenceModelConfig>>;

// reel saves each model (every value random, biases included: a GRU's b_x and b_h apart) and an
// inputs file; the tool imports them all in one run and writes PyTorch's outputs.
void reel_to_torch(const Cases& cases, const TempDir& tmp) {
  Rng rng(17);
  std::string args = "import";
  std::vector<SequenceBatch<float>> batches;
  for (const auto& [name, cfg] : cases) {
    ParameterStore<float> store;
    LoadedModel<float> m;
    build_model(cfg, store, rng, m);
    for (auto* p : store.all())
      for (auto& v : p->value) v = static_cast<float>(0.4 * rng.normal());
    save_checkpoint(tmp.file(name + ".h5"), store, static_cast<const Optimizer<float>*>(nullptr), TrainingState{}, cfg);
    batches.push_back(random_batch(cfg, rng));
    write_inputs(tmp.file(name + "_in.h5"), batches.back());
    args += " --checkpoint " + tmp.file(name + ".h5") + " --inputs " + tmp.file(name + "_in.h5") + " --out " + tmp.file(name + "_out.h5");
  }
  REQUIRE(run(args, tmp) == 0);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].first);
    LoadedModel<float> m = load_model<float>(tmp.file(cases[i].first + ".h5"));
    CHECK(m.config.cell == cases[i].second.cell);
    compare(reel_outputs(m, batches[i]), tmp.file(cases[i].first + "_out.h5"));
  }
}

// The tool exports a fresh PyTorch model of each configuration with its outputs on random
// inputs; reel rebuilds it from the checkpoint alone.
void torch_to_reel(const Cases& cases, const TempDir& tmp) {
  for (const auto& [name, cfg] : cases) {
    const std::string ck = tmp.file(name + "_torch.h5"), io = tmp.file(name + "_io.h5");
    std::string spec = "--kind " + cfg.kind + " --cell " + cfg.cell + " --layers " + std::to_string(cfg.num_layers) +
                       " --hidden " + std::to_string(cfg.hidden_dim) + " --classes " + std::to_string(cfg.num_classes) + " --seed 9";
    spec += cfg.vocab_size > 0 ? " --vocab-size " + std::to_string(cfg.vocab_size) + " --embed-dim " + std::to_string(cfg.embed_dim)
                               : " --input-dim " + std::to_string(cfg.input_dim);
    if (cfg.bidirectional) spec += " --bidirectional";
    REQUIRE(run("export --out " + ck + " " + spec + " --sample " + io + " --batch 5 --time 7", tmp) == 0);
    INFO(name);
    LoadedModel<float> m = load_model<float>(ck);
    CHECK(m.config.cell == cfg.cell);
    CHECK(m.config.num_layers == cfg.num_layers);
    CHECK(m.config.bidirectional == cfg.bidirectional);
    const size_t per_cell = cfg.cell == "gru" ? 4 : 3;  // W_xh, W_hh, b_h (+ b_x)
    CHECK(m.store->count() == (cfg.kind == "tagger" ? 3u : 2u) + static_cast<size_t>(cfg.num_layers * (cfg.bidirectional ? 2 : 1)) * per_cell);
    compare(reel_outputs(m, read_inputs(io)), io);
  }
}

}  // namespace

TEST_CASE("LSTM, GRU, layered and bidirectional models move between reel and PyTorch", "[checkpoint][interop]") {
  if (!torch_available()) {
    WARN("SKIPPED: " << kPython << " cannot import torch and h5py (apt-get install python3-torch python3-h5py)");
    return;
  }
  TempDir tmp;
  const Cases cases = {
      {"lstm_clf", model("classifier", "lstm", 1, false)},
      {"gru_tag", model("tagger", "gru", 1, false)},
      {"lstm_l2_bi_tag", model("tagger", "lstm", 2, true)},
      {"gru_l2_bi_clf", model("classifier", "gru", 2, true)},
      {"rnn_l2_bi_clf", model("classifier", "rnn", 2, true)},
  };
  SECTION("reel -> PyTorch") { reel_to_torch(cases, tmp); }
  SECTION("PyTorch -> reel") { torch_to_reel(cases, tmp); }
}
