#pragma once
// Shared by the [checkpoint] tests: a scratch directory, synthetic data and a small training run
// whose whole state can be saved and restored.
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "data/batching.h"
#include "data/vocab_io.h"
#include "framework/checkpoint.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"
#include "models/model_factory.h"
#include "models/model_io.h"
#include "models/sequence_models.h"

namespace ckpt_test {

using namespace reel;
namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path() / ("reel-ckpt-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Dense sequences of 1..6 steps of 4 features, 3 classes; fixed by the seed, never part of a state.
struct ToyData {
  static constexpr int64_t kFeatures = 4;
  std::vector<std::vector<float>> seqs;
  std::vector<int64_t> lengths, labels;
  explicit ToyData(int n = 40, uint64_t seed = 99) {
    Rng r(seed);
    for (int i = 0; i < n; ++i) {
      const int64_t len = 1 + static_cast<int64_t>(r.below(6));
      std::vector<float> s;
      for (int64_t k = 0; k < len * kFeatures; ++k) s.push_back(static_cast<float>(r.normal()));
      seqs.push_back(s);
      lengths.push_back(len);
      labels.push_back(static_cast<int64_t>(r.below(3)));
    }
  }
  SequenceBatch<float> batch(const std::vector<int64_t>& idx) const {
    SequenceBatch<float> b;
    b.batch = static_cast<int64_t>(idx.size());
    b.features = kFeatures;
    for (int64_t i : idx) b.max_len = std::max(b.max_len, lengths[static_cast<size_t>(i)]);
    b.values.assign(static_cast<size_t>(b.batch * b.max_len * kFeatures), 0.f);
    for (size_t j = 0; j < idx.size(); ++j) {
      const auto& s = seqs[static_cast<size_t>(idx[j])];
      std::copy(s.begin(), s.end(), b.values.begin() + static_cast<int64_t>(j) * b.max_len * kFeatures);
      b.lengths.push_back(lengths[static_cast<size_t>(idx[j])]);
    }
    return b;
  }
};

// Two taggers give bitwise the same logits on a fixed two-sentence batch.
inline void require_same_tagger_output(const SequenceTagger<float>& a, const SequenceTagger<float>& b) {
  SequenceBatch<float> batch;
  batch.batch = 2;
  batch.max_len = 3;
  batch.ids = {2, 3, 4, 5, 0, 0};
  batch.lengths = {3, 1};
  Tape<float> t1, t2;
  const auto o1 = a.forward(t1, batch), o2 = b.forward(t2, batch);
  REQUIRE(o1.logits.size() == o2.logits.size());
  CHECK(std::memcmp(o1.logits.data(), o2.logits.data(), static_cast<size_t>(o1.logits.size()) * sizeof(float)) == 0);
}

// A small embedded-input tagger (vocabulary 6, embedding 3, hidden 5, 4 tags, relu).
inline SequenceModelConfig tagger_config() {
  SequenceModelConfig c;
  c.kind = "tagger";
  c.vocab_size = 6;
  c.embed_dim = 3;
  c.hidden_dim = 5;
  c.num_classes = 4;
  c.activation = "relu";
  return c;
}

inline SequenceModelConfig toy_config() {
  SequenceModelConfig c;
  c.kind = "classifier";
  c.input_dim = ToyData::kFeatures;
  c.hidden_dim = 6;
  c.num_classes = 3;
  return c;
}

// A SequenceClassifier<float> trained with Adam + clipping by Trainer, batch order from a shuffle
// stream, whose full state is snapshot()/restore()-able at any step (mid-epoch included).
struct ToyRun {
  ToyData data;
  SequenceModelConfig config = toy_config();
  ParameterStore<float> store;
  Rng init, shuffle;
  std::unique_ptr<SequenceClassifier<float>> model;
  std::unique_ptr<Adam<float>> adam;
  std::unique_ptr<Trainer<float>> trainer;
  Tape<float> tape;
  TrainingState st;
  std::vector<std::vector<int64_t>> batches;  // this epoch's order, empty between epochs
  std::array<uint64_t, 6> epoch_shuffle{};    // the shuffle stream before this epoch's shuffle
  std::vector<double> losses;                 // every step's loss

  explicit ToyRun(uint64_t seed) : init(seed), shuffle(seed + 7) {
    model = std::make_unique<SequenceClassifier<float>>(store, config, init);
    AdamOptions o;
    o.lr = 0.01;
    adam = std::make_unique<Adam<float>>(store.all(), o);
    TrainerOptions t;
    t.clip_norm = 0.5;
    trainer = std::make_unique<Trainer<float>>(store, *adam, t);
  }
  void train(int64_t steps) {
    for (; steps > 0; --steps) {
      if (batches.empty()) {
        epoch_shuffle = shuffle.state();
        batches = make_batches(data.lengths, 8, shuffle, true, true);
      }
      const auto& idx = batches[static_cast<size_t>(st.batch_in_epoch)];
      const SequenceBatch<float> b = data.batch(idx);
      std::vector<int64_t> labels;
      for (int64_t i : idx) labels.push_back(data.labels[static_cast<size_t>(i)]);
      const StepResult r = trainer->step(tape, [&](Tape<float>& t) { return model->loss(t, model->logits(t, b), labels); });
      losses.push_back(r.loss);
      st.metrics["epoch_loss_sum"] += r.loss * static_cast<double>(idx.size());
      st.metrics["epoch_seen"] += static_cast<double>(idx.size());
      ++st.global_step;
      if (++st.batch_in_epoch == static_cast<int64_t>(batches.size())) {
        ++st.epoch;
        st.batch_in_epoch = 0;
        batches.clear();
        st.metrics["train_loss"] = st.metrics["epoch_loss_sum"] / st.metrics["epoch_seen"];
        st.metrics["epoch_loss_sum"] = st.metrics["epoch_seen"] = 0;
        st.best_dev = std::max(st.best_dev, 1.0 / (1.0 + st.metrics["train_loss"]));
      }
    }
  }
  TrainingState snapshot() const {
    TrainingState s = st;
    s.rng["init"] = init.state();
    s.rng["shuffle"] = batches.empty() ? shuffle.state() : epoch_shuffle;
    return s;
  }
  void restore(const TrainingState& s) {
    st = s;
    init.set_state(s.rng.at("init"));
    shuffle.set_state(s.rng.at("shuffle"));
    batches.clear();
  }
  void save(const std::string& path) const { save_checkpoint(path, store, adam.get(), snapshot(), config); }
  void load(const std::string& path) {
    TrainingState s;
    load_checkpoint(path, *model, adam.get(), &s);
    restore(s);
  }
};

}  // namespace ckpt_test
