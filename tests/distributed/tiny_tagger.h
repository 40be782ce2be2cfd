#pragma once
// A small tagging problem for the distributed tests: sequences of different lengths (so ranks hold
// different token counts), a tagger model, and one training step on any subset of a global batch.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "framework/distributed/consistency.h"
#include "framework/distributed/gradient_sync.h"
#include "framework/optim/optimizer.h"
#include "framework/rng.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"

namespace reel::testing {

struct TinyData {
  std::vector<std::vector<int64_t>> ids, tags;
};

// n sequences, lengths 1..max_len, tags a fixed function of the words.
inline TinyData tiny_data(int64_t n, int64_t vocab, int64_t classes, int64_t max_len, uint64_t seed) {
  Rng rng(seed);
  TinyData d;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t len = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(max_len)));
    std::vector<int64_t> w, t;
    for (int64_t k = 0; k < len; ++k) {
      w.push_back(1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(vocab - 1))));
      t.push_back((w.back() * 7 + (k > 0 ? w[static_cast<size_t>(k - 1)] : 0)) % classes);
    }
    d.ids.push_back(std::move(w));
    d.tags.push_back(std::move(t));
  }
  return d;
}

template <class T>
SequenceBatch<T> tiny_batch(const TinyData& d, const std::vector<int64_t>& idx, std::vector<int64_t>* tags,
                            int64_t* tokens) {
  SequenceBatch<T> b;
  b.batch = static_cast<int64_t>(idx.size());
  for (int64_t i : idx) b.max_len = std::max<int64_t>(b.max_len, static_cast<int64_t>(d.ids[static_cast<size_t>(i)].size()));
  b.ids.assign(static_cast<size_t>(b.batch * b.max_len), 0);
  tags->assign(b.ids.size(), 0);
  *tokens = 0;
  for (int64_t k = 0; k < b.batch; ++k) {
    const auto& w = d.ids[static_cast<size_t>(idx[static_cast<size_t>(k)])];
    const auto& t = d.tags[static_cast<size_t>(idx[static_cast<size_t>(k)])];
    b.lengths.push_back(static_cast<int64_t>(w.size()));
    std::copy(w.begin(), w.end(), b.ids.begin() + k * b.max_len);
    std::copy(t.begin(), t.end(), tags->begin() + k * b.max_len);
    *tokens += static_cast<int64_t>(w.size());
  }
  return b;
}

inline SequenceModelConfig tiny_config(const std::string& cell, bool bidirectional, int64_t hidden = 12,
                                       int64_t vocab = 30) {
  SequenceModelConfig c;
  c.kind = "tagger";
  c.vocab_size = vocab;
  c.embed_dim = 8;
  c.hidden_dim = hidden;
  c.num_classes = 5;
  c.cell = cell;
  c.bidirectional = bidirectional;
  return c;
}

// A model, its Adam and a Trainer: one training run.
template <class T>
struct TinyRun {
  ParameterStore<T> store;
  Rng rng;
  SequenceTagger<T> model;
  Adam<T> adam;
  Trainer<T> trainer;
  Tape<T> tape;
  std::unique_ptr<distributed::GradientSync<T>> sync;

  TinyRun(const SequenceModelConfig& config, uint64_t seed, double clip = 0)
      : rng(seed), model(store, config, rng), adam(store.all(), adam_options()), trainer(store, adam, trainer_options(clip)) {}
  static AdamOptions adam_options() {
    AdamOptions o;
    o.lr = 1e-2;
    return o;
  }
  static TrainerOptions trainer_options(double clip) {
    TrainerOptions o;
    o.clip_norm = clip;
    return o;
  }
  void distribute(distributed::Communicator& comm, distributed::GradientSyncOptions o = {}) {
    distributed::broadcast_parameters(comm, store);
    sync = std::make_unique<distributed::GradientSync<T>>(comm, store, o);
    trainer.set_gradient_sync(sync.get());
  }
  // One step on the sequences idx (this rank's shard, or a whole global batch in one process).
  StepResult step(const TinyData& d, const std::vector<int64_t>& idx) {
    std::vector<int64_t> tags;
    int64_t tokens = 0;
    SequenceBatch<T> b = tiny_batch<T>(d, idx, &tags, &tokens);
    return trainer.step(
        tape, [&](Tape<T>& t) { return model.loss(t, model.forward(t, b), tags); }, static_cast<double>(tokens));
  }
};

// The global batch of step s: batch consecutive sequences, wrapping around the data.
inline std::vector<int64_t> global_batch(int64_t s, int64_t batch, int64_t n) {
  std::vector<int64_t> idx;
  for (int64_t k = 0; k < batch; ++k) idx.push_back((s * batch + k) % n);
  return idx;
}

// max |a - b| / max |b| over every parameter.
template <class T>
double max_relative_difference(const ParameterStore<T>& a, const ParameterStore<T>& b) {
  double diff = 0, scale = 0;
  auto pa = a.all(), pb = b.all();
  for (size_t i = 0; i < pa.size(); ++i)
    for (size_t k = 0; k < pa[i]->value.size(); ++k) {
      diff = std::max(diff, std::abs(static_cast<double>(pa[i]->value[k]) - static_cast<double>(pb[i]->value[k])));
      scale = std::max(scale, std::abs(static_cast<double>(pb[i]->value[k])));
    }
  return scale > 0 ? diff / scale : diff;
}

}  // namespace reel::testing
