// The installed run helpers: CheckpointManager's policy, best-by-metric, resume from the newest
// good file; Progress with named metrics and periodic lines off a terminal; tagger outputs read
// back as (batch, time, classes).
#include <catch2/catch.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "checkpoint_test_util.h"
#include "data/loader.h"
#include "framework/checkpoint_manager.h"
#include "framework/log.h"

using namespace reel;
using ckpt_test::TempDir;

namespace {
void set_all(ParameterStore<float>& s, float v) {
  for (auto* p : s.all()) std::fill(p->value.begin(), p->value.end(), v);
}
float first(ParameterStore<float>& s) { return s.all()[0]->value[0]; }
}  // namespace

TEST_CASE("CheckpointManager: best by a named metric, last K kept, resume from the newest good file", "[checkpoint][run]") {
  TempDir tmp;
  ParameterStore<float> store;
  store.add("w", Shape{3});
  CheckpointPolicy policy;
  policy.keep_last = 2;
  policy.best_metric = "dev_loss";
  policy.higher_is_better = false;
  CheckpointManager ckpt(tmp.file("run.h5"), policy);
  TrainingState st;
  const double dev_loss[] = {0.9, 0.5, 0.7, 0.6};
  for (int e = 1; e <= 4; ++e) {
    set_all(store, static_cast<float>(e));
    st.epoch = e;
    st.global_step = 10 * e;
    st.metrics = {{"dev_loss", dev_loss[e - 1]}};
    CHECK(ckpt.save(store, nullptr, st, {}) == (e <= 2));  // 0.9 then 0.5 are the best so far
  }
  CHECK(st.best_dev == 0.5);
  CHECK(ckpt.kept() == std::vector<std::string>{tmp.file("run.step30.h5"), tmp.file("run.step40.h5")});
  CHECK(read_training_state(ckpt.best_path()).global_step == 20);
  CHECK(ckpt.due(10, true, 1));
  CHECK_FALSE(ckpt.due(7, false, 1));
  ParameterStore<float> best;
  best.add("w", Shape{3});
  REQUIRE(ckpt.restore_best(best));
  CHECK(first(best) == 2.0f);  // from memory: epoch 2's parameters

  // A new run resumes from the newest file that loads: the latest is damaged, step 40's is not.
  { std::ofstream(tmp.file("run.h5"), std::ios::trunc) << "not a checkpoint"; }
  CheckpointManager again(tmp.file("run.h5"), policy);
  ParameterStore<float> resumed;
  resumed.add("w", Shape{3});
  TrainingState rst;
  REQUIRE(again.resume(resumed, nullptr, &rst));
  CHECK(rst.global_step == 40);
  CHECK(first(resumed) == 4.0f);
  REQUIRE(again.restore_best(resumed));  // the best file beside it
  CHECK(first(resumed) == 2.0f);
  // Asking for one file: its error, not a fallback.
  CHECK_THROWS(again.resume(resumed, nullptr, &rst, tmp.file("run.h5")));
  // Nothing to resume from: false, store untouched.
  CheckpointManager empty(tmp.file("other.h5"), policy);
  CHECK_FALSE(empty.resume(resumed, nullptr, &rst));
  // No path: nothing on disk, the best still kept in memory.
  CheckpointPolicy by_acc;
  by_acc.best_metric = "acc";
  CheckpointManager memory("", by_acc);
  TrainingState mst;
  set_all(store, 7.0f);
  mst.metrics = {{"acc", 0.8}};
  CHECK(memory.save(store, nullptr, mst, {}));
  set_all(store, 8.0f);
  mst.metrics = {{"acc", 0.7}};
  CHECK_FALSE(memory.save(store, nullptr, mst, {}));
  REQUIRE(memory.restore_best(store));
  CHECK(first(store) == 7.0f);
  mst.metrics = {};
  CHECK_THROWS_WITH(memory.save(store, nullptr, mst, {}), Catch::Contains("the best metric 'acc' is not in the state's metrics"));
}

TEST_CASE("Progress: any named metrics, and a line every few seconds when stderr is not a terminal", "[log][run]") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("progress-test", sink);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  {
    Progress p("items", 100, 1, 3);
    p.set_interval(0.05);
    p.update(10, {{"loss", 0.5}});  // too soon after the start: nothing
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    p.update(40, {{"loss", 0.25}, {"perplexity", 1.28}});
    p.finish({{"loss", 0.2}, {"bleu", 31.5}});
  }
  spdlog::set_default_logger(previous);
  const std::string log = out.str();
  INFO(log);
  CHECK(log.find("epoch 1/3  40%  loss 0.2500  perplexity 1.2800") != std::string::npos);
  CHECK(log.find("loss 0.5000") == std::string::npos);
  CHECK(log.find("epoch 1/3  loss 0.2000  bleu 31.5000") != std::string::npos);
  CHECK(log.find("acc") == std::string::npos);  // no forced accuracy
}

TEST_CASE("Tagger outputs read back as (batch, time, classes) in the batch's order, packed or padded", "[run][models]") {
  ParameterStore<double> store;
  Rng rng(3);
  SequenceModelConfig c;
  c.kind = "tagger", c.vocab_size = 20, c.embed_dim = 4, c.hidden_dim = 5, c.num_classes = 3;
  SequenceTagger<double> model(store, c, rng);
  SequenceBatch<double> b = collate_ids<double>({{1, 2}, {3, 4, 5, 6}, {7}});
  Tape<double> tape;
  const auto packed = model.forward(tape, b, BatchMode::Packed).by_position(b);
  Tape<double> tape2;
  const auto padded = model.forward(tape2, b, BatchMode::Padded).by_position(b);
  REQUIRE(packed.size() == 3u * 4 * 3);
  for (size_t i = 0; i < packed.size(); ++i) CHECK(packed[i] == Approx(padded[i]).epsilon(1e-12));
  CHECK(packed[(0 * 4 + 2) * 3] == 0.0);  // sequence 0 has 2 steps: step 2 is padding
  CHECK(packed[(1 * 4 + 3) * 3] != 0.0);  // sequence 1, step 3: real
}

TEST_CASE("CheckpointManager's files are copies, never aliases of one another", "[checkpoint][run]") {
  TempDir tmp;
  ParameterStore<float> store;
  store.add("w", Shape{2});
  CheckpointPolicy policy;
  policy.keep_last = 1;
  policy.best_metric = "acc";
  CheckpointManager ckpt(tmp.file("run.h5"), policy);
  TrainingState st;
  st.metrics = {{"acc", 1.0}};
  ckpt.save(store, nullptr, st, {});
  namespace fs = std::filesystem;
  CHECK(fs::hard_link_count(tmp.file("run.h5")) == 1);
  CHECK(fs::hard_link_count(ckpt.best_path()) == 1);
  CHECK(fs::hard_link_count(ckpt.step_path(0)) == 1);
  { std::ofstream(tmp.file("run.h5"), std::ios::trunc) << "damaged in place"; }
  CHECK(read_training_state(ckpt.best_path()).global_step == 0);  // still a good file
  CHECK(read_training_state(ckpt.step_path(0)).global_step == 0);
}
