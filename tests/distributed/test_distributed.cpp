// Data-parallel training on MPI: run under mpirun with 2 and 3 ranks (tests/CMakeLists.txt).
// Every rank also computes the one-process reference itself, so each comparison is local.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "framework/checkpoint.h"
#include "framework/distributed/mpi.h"
#include "framework/optim/clip.h"
#include "tests/distributed/tiny_tagger.h"

using namespace reel;
using namespace reel::testing;
namespace dist = reel::distributed;

static dist::Communicator* g_world = nullptr;

namespace {

constexpr int64_t kSteps = 20, kGlobalBatch = 12, kSequences = 60;

// K steps of one process with the whole global batch.
template <class T>
void train_reference(TinyRun<T>& run, const TinyData& d, int64_t first, int64_t last, int64_t batch = kGlobalBatch) {
  for (int64_t s = first; s < last; ++s) run.step(d, global_batch(s, batch, kSequences));
}

// The same steps on comm's ranks, each with its shard of every global batch.
template <class T>
void train_distributed(TinyRun<T>& run, dist::Communicator& comm, const TinyData& d, int64_t first, int64_t last,
                       int64_t batch = kGlobalBatch, std::vector<double>* losses = nullptr) {
  for (int64_t s = first; s < last; ++s) {
    StepResult r = run.step(d, dist::shard(global_batch(s, batch, kSequences), comm.rank(), comm.size()));
    if (losses) losses->push_back(r.loss);
  }
}

}  // namespace

TEST_CASE("N ranks with batch B/N reach the parameters of one process with batch B", "[distributed]") {
  dist::Communicator& world = *g_world;
  const TinyData d = tiny_data(kSequences, 30, 5, 9, 3);
  for (const char* cell : {"rnn", "lstm"}) {
    for (bool bidir : {false, true}) {
      SECTION(std::string(cell) + (bidir ? " bidirectional" : "")) {
        const auto config = tiny_config(cell, bidir);
        TinyRun<float> ref(config, 11, /*clip=*/1.0);
        std::vector<double> ref_losses;
        for (int64_t s = 0; s < kSteps; ++s) ref_losses.push_back(ref.step(d, global_batch(s, kGlobalBatch, kSequences)).loss);
        // Other ranks start from other weights: the broadcast from rank 0 must fix that.
        TinyRun<float> run(config, 11 + static_cast<uint64_t>(world.rank()) * 1000, 1.0);
        dist::GradientSyncOptions o;
        o.bucket_bytes = 256;  // several buckets, reduced while backward runs
        o.overlap = true;
        run.distribute(world, o);
        std::vector<double> losses;
        train_distributed(run, world, d, 0, kSteps, kGlobalBatch, &losses);
        INFO("rank " << world.rank() << " of " << world.size() << ", " << run.sync->buckets() << " buckets");
        CHECK(run.sync->buckets() > 2);
        CHECK(max_relative_difference(run.store, ref.store) < 1e-6);
        for (size_t k = 0; k < losses.size(); ++k) CHECK(losses[k] == Approx(ref_losses[k]).epsilon(1e-5));
        dist::check_parameters_agree(world, run.store, kSteps);  // every rank holds the same values
      }
    }
  }
}

TEST_CASE("Shards differ in token counts and may be empty: gradients are weighted by loss terms", "[distributed]") {
  dist::Communicator& world = *g_world;
  const TinyData d = tiny_data(kSequences, 30, 5, 9, 4);
  const auto config = tiny_config("gru", false);
  // A global batch of size() - 1 sequences leaves the last rank with nothing to do.
  const int64_t batch = world.size() - 1;
  TinyRun<double> ref(config, 5), run(config, 5);
  train_reference(ref, d, 0, 8, batch);
  run.distribute(world);
  train_distributed(run, world, d, 0, 8, batch);
  CHECK(max_relative_difference(run.store, ref.store) < 1e-12);
}

TEST_CASE("Overlap and bucket size do not change the averaged gradient", "[distributed]") {
  dist::Communicator& world = *g_world;
  const TinyData d = tiny_data(kSequences, 30, 5, 9, 5);
  const auto config = tiny_config("lstm", false);
  TinyRun<double> a(config, 7), b(config, 7);
  dist::GradientSyncOptions one_bucket;
  one_bucket.bucket_bytes = int64_t{1} << 30;
  one_bucket.overlap = false;
  dist::GradientSyncOptions many;
  many.bucket_bytes = 1;  // a bucket per parameter, each started as soon as backward finishes it
  many.overlap = true;
  a.distribute(world, one_bucket);
  b.distribute(world, many);
  CHECK(a.sync->buckets() == 1);
  CHECK(b.sync->buckets() == static_cast<int64_t>(b.store.count()));
  train_distributed(a, world, d, 0, 5);
  train_distributed(b, world, d, 0, 5);
  CHECK(max_relative_difference(a.store, b.store) < 1e-12);
}

TEST_CASE("Deterministic mode: bitwise the shards summed in rank order, and bitwise run to run", "[distributed]") {
  dist::Communicator& world = *g_world;
  const TinyData d = tiny_data(kSequences, 30, 5, 9, 6);
  const auto config = tiny_config("lstm", true);
  dist::GradientSyncOptions o;
  o.deterministic = true;
  TinyRun<float> first(config, 9), second(config, 9);
  first.distribute(world, o);
  second.distribute(world, o);
  train_distributed(first, world, d, 0, 10);
  train_distributed(second, world, d, 0, 10);
  // One process, the ranks' shards one after another, summed in rank order with the same weights.
  TinyRun<float> emu(config, 9);
  auto params = emu.store.all();
  for (int64_t s = 0; s < 10; ++s) {
    const auto idx = global_batch(s, kGlobalBatch, kSequences);
    std::vector<std::vector<int64_t>> shards;
    std::vector<int64_t> tokens;
    int64_t total = 0;
    for (int r = 0; r < world.size(); ++r) {
      shards.push_back(dist::shard(idx, r, world.size()));
      std::vector<int64_t> tags;
      int64_t n = 0;
      tiny_batch<float>(d, shards.back(), &tags, &n);
      tokens.push_back(n);
      total += n;
    }
    std::vector<std::vector<float>> sum(params.size());
    for (int r = 0; r < world.size(); ++r) {
      std::vector<int64_t> tags;
      int64_t n = 0;
      SequenceBatch<float> b = tiny_batch<float>(d, shards[static_cast<size_t>(r)], &tags, &n);
      emu.tape.clear();
      emu.store.zero_grad();
      emu.tape.backward(emu.model.loss(emu.tape, emu.model.forward(emu.tape, b), tags));
      const float scale = static_cast<float>(static_cast<double>(n) / static_cast<double>(total));
      for (size_t i = 0; i < params.size(); ++i) {
        std::vector<float> g(params[i]->grad.size());
        for (size_t k = 0; k < g.size(); ++k) g[k] = params[i]->grad[k] * scale;
        if (r == 0) sum[i] = g;
        else
          for (size_t k = 0; k < g.size(); ++k) sum[i][k] += g[k];
      }
    }
    for (size_t i = 0; i < params.size(); ++i) params[i]->grad = sum[i];
    grad_norm(params);
    emu.adam.step();
  }
  auto a = first.store.all(), b = second.store.all();
  for (size_t i = 0; i < params.size(); ++i) {
    INFO(params[i]->name);
    CHECK(a[i]->value == b[i]->value);
    CHECK(a[i]->value == params[i]->value);
  }
}

TEST_CASE("Resume on a different number of ranks follows the same trajectory", "[distributed]") {
  dist::Communicator& world = *g_world;
  const TinyData d = tiny_data(kSequences, 30, 5, 9, 8);
  const auto config = tiny_config("gru", false);
  TinyRun<double> ref(config, 13);
  train_reference(ref, d, 0, 10);
  // Steps 0..4 on size()-1 ranks (1 rank when size() is 2), checkpoint written by its rank 0.
  char host[64] = {};
  gethostname(host, sizeof host - 1);
  int64_t pid = static_cast<int64_t>(getpid());
  world.broadcast(&pid, sizeof pid, 0);
  const std::string path = std::string(REEL_BINARY_DIR) + "/distributed_resume_" + std::to_string(pid) + ".h5";
  auto part = world.split(world.rank() < world.size() - 1 ? 0 : -1, world.rank());
  if (part) {
    TinyRun<double> first(config, 13);
    first.distribute(*part);
    train_distributed(first, *part, d, 0, 5);
    TrainingState st;
    st.global_step = first.adam.steps();
    if (part->rank() == 0) save_checkpoint(path, first.store, &first.adam, st);
  }
  world.barrier();
  // Steps 5..9 on every rank, from the file.
  TinyRun<double> resumed(config, 99);
  TrainingState st;
  load_checkpoint(path, resumed.store, &resumed.adam, &st);
  CHECK(st.global_step == 5);
  resumed.distribute(world);
  train_distributed(resumed, world, d, 5, 10);
  CHECK(max_relative_difference(resumed.store, ref.store) < 1e-12);
  world.barrier();
  if (world.rank() == 0) std::remove(path.c_str());
}

TEST_CASE("Row-sparse embedding gradients: the touched rows gathered give the dense result", "[distributed]") {
  dist::Communicator& world = *g_world;
  const TinyData d = tiny_data(kSequences, 2000, 5, 9, 12);
  const auto config = tiny_config("lstm", false, 12, 2000);
  dist::GradientSyncOptions sparse;
  sparse.row_sparse = {"embed.weight"};
  TinyRun<double> ref(config, 21), dense(config, 21), rows(config, 21);
  train_reference(ref, d, 0, 8);
  dense.distribute(world);
  rows.distribute(world, sparse);
  train_distributed(dense, world, d, 0, 8);
  train_distributed(rows, world, d, 0, 8);
  CHECK(rows.sync->sparse_steps() == 8);
  CHECK(rows.sync->dense_fallback_steps() == 0);
  CHECK(max_relative_difference(rows.store, dense.store) < 1e-12);
  CHECK(max_relative_difference(rows.store, ref.store) < 1e-12);
  // Deterministic: the rows summed in rank order are the dense rank-order sum, bit for bit.
  sparse.deterministic = true;
  dist::GradientSyncOptions det;
  det.deterministic = true;
  TinyRun<float> a(config, 21), b(config, 21);
  a.distribute(world, sparse);
  b.distribute(world, det);
  train_distributed(a, world, d, 0, 6);
  train_distributed(b, world, d, 0, 6);
  auto pa = a.store.all(), pb = b.store.all();
  for (size_t i = 0; i < pa.size(); ++i) CHECK(pa[i]->value == pb[i]->value);
  // A small vocabulary whose rows are nearly all touched falls back to the dense reduction.
  TinyRun<double> small(tiny_config("rnn", false), 3), small_ref(tiny_config("rnn", false), 3);
  small.distribute(world, sparse);
  const TinyData ds = tiny_data(kSequences, 30, 5, 9, 13);
  train_distributed(small, world, ds, 0, 3);
  train_reference(small_ref, ds, 0, 3);
  CHECK(small.sync->dense_fallback_steps() == 3);
  CHECK(max_relative_difference(small.store, small_ref.store) < 1e-12);
}

TEST_CASE("Ranks with a different configuration are refused at start-up, naming the difference", "[distributed]") {
  dist::Communicator& world = *g_world;
  dist::Facts facts = {{"cell", "lstm"}, {"hidden_dim", world.rank() == 1 ? "64" : "128"}, {"train_sequences", "12543"}};
  try {
    dist::require_same_on_all_ranks(world, facts);
    FAIL("a different hidden_dim on rank 1 was accepted");
  } catch (const dist::DistributedError& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("rank 1: hidden_dim is 64, rank 0 has 128") != std::string::npos);
    CHECK(m.find("cell") == std::string::npos);  // only what differs
  }
  // The same facts everywhere pass.
  dist::require_same_on_all_ranks(world, {{"cell", "lstm"}, {"hidden_dim", "128"}});
}

TEST_CASE("Parameters that drift apart are caught by the checksum, naming the parameter", "[distributed]") {
  dist::Communicator& world = *g_world;
  TinyRun<float> run(tiny_config("rnn", false), 3);
  run.distribute(world);
  dist::check_parameters_agree(world, run.store, 1);
  if (world.rank() == world.size() - 1) run.store.at("head.b").value[0] += 1e-6f;
  try {
    dist::check_parameters_agree(world, run.store, 7);
    FAIL("drift not detected");
  } catch (const dist::DistributedError& e) {
    const std::string m = e.what();
    CHECK(m.find("after step 7: 'head.b' differs between rank 0 and rank " + std::to_string(world.size() - 1)) !=
          std::string::npos);
  }
}

TEST_CASE("Sharding covers a global batch in rank order", "[distributed]") {
  for (int size : {1, 2, 3, 5})
    for (int64_t n : {0, 1, 4, 12, 13}) {
      int64_t next = 0;
      for (int r = 0; r < size; ++r) {
        auto [b, e] = dist::shard_range(n, r, size);
        CHECK(b == next);
        CHECK(e - b >= n / size);
        CHECK(e - b <= n / size + 1);
        next = e;
      }
      CHECK(next == n);
    }
}

int main(int argc, char** argv) {
  dist::MpiSession session;
  g_world = &session.world();
  // Only rank 0 reports passes; every rank reports its failures.
  Catch::Session catch_session;
  if (int rc = catch_session.applyCommandLine(argc, argv)) return rc;
  int failed = catch_session.run();
  double worst = failed;
  // The exit code is the worst over ranks, so mpirun reports a failure seen by any rank.
  double all[64] = {};
  if (g_world->size() <= 64) {
    g_world->allgather(&worst, sizeof worst, all);
    for (int r = 0; r < g_world->size(); ++r) worst = std::max(worst, all[r]);
  }
  return static_cast<int>(worst);
}
