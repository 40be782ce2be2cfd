// Packed batches compute only real tokens: the time of a tagger training step follows the number
// of real tokens, not batch × max_len. One batch of 32 sequences with max_len 100 throughout;
// the other lengths vary so the real-token share goes from 100% down to ~5%. Packed and padded
// (masked) runs side by side; prints a table and one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "framework/blas.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"

using namespace reel;

static double step_ms(SequenceTagger<float>& model, ParameterStore<float>& store, const SequenceBatch<float>& b,
                      const std::vector<int64_t>& tags, BatchMode mode, int reps) {
  SGDOptions so;
  so.lr = 0.0;  // keep the weights fixed: every rep does the same work
  SGD<float> sgd(store.all(), so);
  Trainer<float> trainer(store, sgd);
  Tape<float> tape;
  std::vector<double> t;
  for (int r = 0; r < reps + 2; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    trainer.step(tape, [&](Tape<float>& tp) { return model.loss(tp, model.forward(tp, b, mode), tags); });
    if (r >= 2) t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main() {
  blas::set_threads(1);
  blas::flush_denormals();
  const int64_t B = 32, L = 100;
  SequenceModelConfig cfg;
  cfg.kind = "tagger";
  cfg.vocab_size = 5000;
  cfg.embed_dim = 100;
  cfg.hidden_dim = 128;
  cfg.num_classes = 17;
  ParameterStore<float> store;
  Rng rng(1);
  SequenceTagger<float> model(store, cfg, rng);
  std::printf("%10s %12s %12s %12s %10s\n", "tokens", "share", "packed_ms", "padded_ms", "ratio");
  std::string rows;
  for (int64_t short_len : {100, 50, 20, 5, 1}) {
    SequenceBatch<float> b;
    b.batch = B;
    b.max_len = L;
    b.lengths.assign(B, short_len);
    b.lengths[0] = L;  // one full-length sequence keeps max_len at 100
    b.ids.assign(static_cast<size_t>(B * L), 0);
    std::vector<int64_t> tags(b.ids.size(), 0);
    int64_t tokens = 0;
    for (int64_t i = 0; i < B; ++i)
      for (int64_t t = 0; t < b.lengths[static_cast<size_t>(i)]; ++t, ++tokens) {
        b.ids[static_cast<size_t>(i * L + t)] = static_cast<int64_t>(rng.below(4998)) + 2;
        tags[static_cast<size_t>(i * L + t)] = static_cast<int64_t>(rng.below(17));
      }
    const double packed = step_ms(model, store, b, tags, BatchMode::Packed, 15);
    const double padded = step_ms(model, store, b, tags, BatchMode::Padded, 15);
    const double share = static_cast<double>(tokens) / static_cast<double>(B * L);
    std::printf("%10lld %11.1f%% %12.3f %12.3f %10.2f\n", static_cast<long long>(tokens), 100 * share, packed, padded,
                packed / padded);
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s{\"tokens\":%lld,\"share\":%.4f,\"packed_ms\":%.3f,\"padded_ms\":%.3f}",
                  rows.empty() ? "" : ",", static_cast<long long>(tokens), share, packed, padded);
    rows += buf;
  }
  std::printf("{\"bench\":\"packing\",\"batch\":%lld,\"max_len\":%lld,\"rows\":[%s]}\n", static_cast<long long>(B),
              static_cast<long long>(L), rows.c_str());
}
