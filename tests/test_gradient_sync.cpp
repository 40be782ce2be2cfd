// The one-process side of data-parallel training: the tape's gradient-ready announcements, and
// GradientSync on a LocalCommunicator (the MPI side is tests/distributed/, run under mpirun).
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "framework/distributed/mpi.h"
#include "tests/distributed/tiny_tagger.h"

using namespace reel;
using namespace reel::testing;
namespace dist = reel::distributed;

namespace {
struct Announcements {
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> grad_then;  // each gradient when it was announced
  static void record(void* self, const Parameter<double>& p) {
    auto* a = static_cast<Announcements*>(self);
    a->order.push_back(p.name);
    a->grad_then[p.name].assign(p.grad.begin(), p.grad.end());
  }
};
size_t position(const std::vector<std::string>& v, const std::string& name) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), name) - v.begin());
}
}  // namespace

TEST_CASE("The tape announces each parameter once, as soon as its gradient is final, last used first", "[distributed]") {
  for (const char* cell : {"rnn", "lstm", "gru"}) {
    for (bool bidir : {false, true}) {
      INFO(cell << (bidir ? " bidirectional" : ""));
      TinyRun<double> run(tiny_config(cell, bidir), 4);
      const TinyData d = tiny_data(6, 30, 5, 7, 2);
      std::vector<int64_t> tags;
      int64_t tokens = 0;
      SequenceBatch<double> b = tiny_batch<double>(d, {0, 1, 2, 3, 4, 5}, &tags, &tokens);
      Announcements a;
      run.tape.set_grad_ready_hook(&Announcements::record, &a);
      run.store.zero_grad();
      run.tape.backward(run.model.loss(run.tape, run.model.forward(run.tape, b), tags));
      run.tape.set_grad_ready_hook(nullptr, nullptr);
      REQUIRE(a.order.size() == run.store.count());
      for (Parameter<double>* p : run.store.all()) {
        INFO(p->name);
        CHECK(std::count(a.order.begin(), a.order.end(), p->name) == 1);
        CHECK(a.grad_then[p->name] == p->grad);  // nothing was added after the announcement
      }
      // The head is read last in the forward, so its gradient is final first; the embedding last.
      for (Parameter<double>* p : run.store.all())
        if (p->name.rfind("rnn.", 0) == 0) {
          CHECK(position(a.order, "head.W") < position(a.order, p->name));
          CHECK(position(a.order, "head.b") < position(a.order, p->name));
        }
      CHECK(a.order.back() == "embed.weight");
    }
  }
}

TEST_CASE("GradientSync on one process leaves training bitwise unchanged", "[distributed]") {
  const TinyData d = tiny_data(40, 30, 5, 9, 3);
  TinyRun<float> plain(tiny_config("lstm", false), 2), synced(tiny_config("lstm", false), 2);
  dist::LocalCommunicator local;
  dist::GradientSyncOptions o;
  o.bucket_bytes = 1;
  o.overlap = true;
  synced.distribute(local, o);
  CHECK(synced.sync->buckets() == static_cast<int64_t>(synced.store.count()));
  for (int64_t s = 0; s < 6; ++s) {
    const auto idx = global_batch(s, 8, 40);
    const double l1 = plain.step(d, idx).loss, l2 = synced.step(d, idx).loss;
    CHECK(l1 == Approx(l2).epsilon(1e-6));
  }
  auto a = plain.store.all(), b = synced.store.all();
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i]->value == b[i]->value);
}

TEST_CASE("GradientSync refuses a step without loss terms and bad options", "[distributed]") {
  TinyRun<float> run(tiny_config("rnn", false), 2);
  dist::LocalCommunicator local;
  run.distribute(local);
  const TinyData d = tiny_data(4, 30, 5, 5, 1);
  CHECK_THROWS_WITH(run.trainer.step(run.tape, [&](Tape<float>&) -> Var<float> { FAIL("forward called"); return {}; }, 0),
                    Catch::Contains("no rank holds a loss term"));
  dist::GradientSyncOptions bad;
  bad.bucket_bytes = 0;
  CHECK_THROWS_WITH(dist::GradientSync<float>(local, run.store, bad), Catch::Contains("bucket_bytes must be >= 1"));
  CHECK_THROWS_WITH(dist::shard_range(10, 3, 3), Catch::Contains("rank 3 of 3"));
}

TEST_CASE("Without MPI, a distributed session is a clear error", "[distributed]") {
  if (dist::mpi_built()) {
    CHECK(dist::world_rank() == -1);  // MPI is not initialised in this program
    dist::abort_world(1);             // and abort_world is then a no-op
    SUCCEED("built with MPI: tests/distributed covers the session");
  } else {
    CHECK_THROWS_WITH(dist::MpiSession(), Catch::Contains("REEL_WITH_MPI=OFF"));
  }
}
