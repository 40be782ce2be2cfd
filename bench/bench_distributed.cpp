// bench_distributed: what data-parallel training costs on this machine, run under mpirun.
//   --metric allreduce   MPI allreduce (through reel's Communicator) of float buffers of --sizes
//                        bytes (default: 4 B .. 64 MiB and the shipped models' gradient sizes):
//                        median microseconds over --reps, and the algorithm bandwidth bytes/time.
//   --metric step        training steps of --model tagger (train_tagger's model: vocabulary 8867,
//                        embedding 100, vanilla hidden 128, 17 tags; sentences of 1..31 tokens) or
//                        lstm1024 (an LSTM classifier, input 100, hidden 1024, T=100, 10 classes),
//                        --batch sequences per rank (weak scaling: the global batch grows with the
//                        ranks): median step time, and the part of it spent blocked in communication.
// One JSON line per measurement. bench/distributed_scaling.py runs it and fits the α–β model.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "examples/data_parallel.h"
#include "examples/example_common.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"

using namespace reel;
using namespace reel::examples;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int64_t gradient_floats(const SequenceModelConfig& c, int64_t in) {
  ParameterStore<float> s;
  Rng rng(1);
  SequenceModel<float> m(s, c, rng);
  (void)in;
  return s.num_elements();
}

SequenceModelConfig model_config(const std::string& model) {
  SequenceModelConfig c;
  if (model == "tagger") {
    c.kind = "tagger";
    c.vocab_size = 8867;
    c.embed_dim = 100;
    c.hidden_dim = 128;
    c.num_classes = 17;
  } else if (model == "lstm1024") {
    c.kind = "classifier";
    c.input_dim = 100;
    c.hidden_dim = 1024;
    c.num_classes = 10;
    c.cell = "lstm";
  } else {
    throw UsageError("--model: tagger or lstm1024, got '" + model + "'");
  }
  return c;
}

void bench_allreduce(DataParallel& dp, const Cli& cli) {
  std::vector<int64_t> sizes;
  std::stringstream ss(cli.str("sizes"));
  for (std::string tok; std::getline(ss, tok, ',');) sizes.push_back(std::stoll(tok));
  if (sizes.empty()) {
    for (int64_t b = 4; b <= (int64_t{64} << 20); b *= 4) sizes.push_back(b);
    sizes.push_back(gradient_floats(model_config("tagger"), 0) * 4);
    sizes.push_back(gradient_floats(model_config("lstm1024"), 0) * 4);
  }
  const int reps = static_cast<int>(cli.integer("reps"));
  for (int64_t bytes : sizes) {
    std::vector<float> buf(static_cast<size_t>(std::max<int64_t>(1, bytes / 4)), 1.0f);
    std::vector<double> us;
    for (int r = 0; r < reps + 3; ++r) {
      dp.comm().barrier();
      const auto t0 = Clock::now();
      dp.comm().allreduce_sum(buf.data(), static_cast<int64_t>(buf.size()));
      const double t = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      double worst = t;  // the slowest rank's time is the collective's
      std::vector<double> all(static_cast<size_t>(dp.size()));
      dp.comm().allgather(&worst, sizeof worst, all.data());
      if (r >= 3) us.push_back(*std::max_element(all.begin(), all.end()));
    }
    const double m = median(us);
    if (dp.root())
      std::printf("{\"metric\":\"allreduce\",\"ranks\":%d,\"bytes\":%lld,\"median_us\":%.2f,\"algbw_GBps\":%.3f}\n",
                  dp.size(), static_cast<long long>(bytes), m, static_cast<double>(bytes) / (m * 1e3));
  }
}

void bench_step(DataParallel& dp, const Cli& cli) {
  const SequenceModelConfig c = model_config(cli.str("model"));
  ParameterStore<float> store;
  Rng rng(1), data_rng(7 + static_cast<uint64_t>(dp.rank()));
  AdamOptions ao;
  Tape<float> tape;
  const int64_t batch = cli.integer("batch");
  std::unique_ptr<SequenceTagger<float>> tagger;
  std::unique_ptr<SequenceClassifier<float>> classifier;
  if (c.kind == "tagger") tagger = std::make_unique<SequenceTagger<float>>(store, c, rng);
  else classifier = std::make_unique<SequenceClassifier<float>>(store, c, rng);
  Adam<float> adam(store.all(), ao);
  TrainerOptions to;
  to.clip_norm = 1.0;
  Trainer<float> trainer(store, adam, to);
  dp.attach(trainer, store, {{"model", cli.str("model")}, {"batch", cli.str("batch")}});
  std::vector<double> total, comm;
  const int steps = static_cast<int>(cli.integer("steps"));
  for (int s = 0; s < steps + 3; ++s) {
    SequenceBatch<float> b;
    b.batch = batch;
    std::vector<int64_t> tags, labels;
    double terms = 0;
    if (tagger) {
      for (int64_t k = 0; k < batch; ++k) b.lengths.push_back(1 + static_cast<int64_t>(data_rng.below(31)));
      b.max_len = *std::max_element(b.lengths.begin(), b.lengths.end());
      for (int64_t k = 0; k < batch * b.max_len; ++k) b.ids.push_back(1 + static_cast<int64_t>(data_rng.below(8866)));
      for (int64_t k = 0; k < batch * b.max_len; ++k) tags.push_back(static_cast<int64_t>(data_rng.below(17)));
      for (int64_t l : b.lengths) terms += static_cast<double>(l);
    } else {
      b.max_len = 100;
      b.features = 100;
      b.lengths.assign(static_cast<size_t>(batch), 100);
      b.values.resize(static_cast<size_t>(batch * 100 * 100));
      for (float& v : b.values) v = static_cast<float>(data_rng.uniform() - 0.5);
      for (int64_t k = 0; k < batch; ++k) labels.push_back(static_cast<int64_t>(data_rng.below(10)));
      terms = static_cast<double>(batch);
    }
    dp.comm().barrier();
    const double c0 = dp.communication_seconds();
    const auto t0 = Clock::now();
    trainer.step(tape, [&](Tape<float>& t) {
      if (tagger) return tagger->loss(t, tagger->forward(t, b), tags);
      return classifier->loss(t, classifier->logits(t, b), labels);
    }, terms);
    if (s >= 3) {
      total.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      comm.push_back((dp.communication_seconds() - c0) * 1e3);
    }
  }
  double m[2] = {median(total), median(comm)};
  std::vector<double> all(2 * static_cast<size_t>(dp.size()));
  dp.comm().allgather(m, sizeof m, all.data());
  if (dp.root()) {
    double worst = 0, comm_mean = 0;
    for (int r = 0; r < dp.size(); ++r) {
      worst = std::max(worst, all[2 * static_cast<size_t>(r)]);
      comm_mean += all[2 * static_cast<size_t>(r) + 1] / dp.size();
    }
    std::printf("{\"metric\":\"step\",\"model\":\"%s\",\"ranks\":%d,\"batch_per_rank\":%lld,\"overlap\":%d,"
                "\"gradient_bytes\":%lld,\"step_ms\":%.3f,\"comm_ms\":%.3f,\"compute_ms\":%.3f}\n",
                cli.str("model").c_str(), dp.size(), static_cast<long long>(batch), cli.on("overlap") ? 1 : 0,
                static_cast<long long>(store.num_elements() * 4), worst, comm_mean, worst - comm_mean);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("bench_distributed", "Allreduce latency/bandwidth and data-parallel step times (run under mpirun).");
  cli.option("metric", "allreduce", "allreduce or step").option("sizes", "", "comma list of bytes (allreduce)")
      .option("reps", "50", "timed repetitions").option("model", "tagger", "tagger or lstm1024 (step)")
      .option("batch", "32", "sequences per rank (step)").option("steps", "30", "timed steps (step)")
      .option("threads", "1", "BLAS threads per rank");
  add_distributed_flags(cli);
  return run_main(cli, argc, argv, [&] {
    DataParallel dp(cli);
    if (cli.str("metric") == "allreduce") bench_allreduce(dp, cli);
    else if (cli.str("metric") == "step") bench_step(dp, cli);
    else throw UsageError("--metric: allreduce or step, got '" + cli.str("metric") + "'");
    return 0;
  });
}
