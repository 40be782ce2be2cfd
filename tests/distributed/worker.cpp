// A small data-parallel training program for the fault tests (tests/distributed/faults.sh): the
// examples' own start-up, error path and checkpointing, with a fault injected on one rank.
//   mpirun -np 2 distributed_worker --distributed --checkpoint c.h5 --fault kill --fault-step 12
//   distributed_worker --verify c.h5      (one process: load the checkpoint, print its step)
#include <csignal>

#include "examples/data_parallel.h"
#include "examples/example_common.h"
#include "framework/checkpoint.h"
#include "framework/checkpoint_manager.h"
#include "tests/distributed/tiny_tagger.h"

using namespace reel;
using namespace reel::examples;
using namespace reel::testing;

int main(int argc, char** argv) {
  Cli cli("distributed_worker", "Trains a tiny tagger data-parallel; injects a fault on one rank.");
  cli.option("steps", "40", "training steps").option("checkpoint", "", "checkpoint (rank 0 saves every 5 steps)")
      .option("fault", "none", "none | throw | kill").option("fault-rank", "1", "the rank that fails")
      .option("fault-step", "12", "the step it fails at").option("hidden", "12", "hidden size")
      .option("hidden-on-rank", "-1", "this rank uses --hidden + 4 (a mismatched configuration)")
      .option("verify", "", "load this checkpoint in one process and print its step").option("threads", "1", "BLAS threads");
  add_distributed_flags(cli);
  return run_main(cli, argc, argv, [&] {
    if (!cli.str("verify").empty()) {
      TinyRun<float> run(tiny_config("lstm", false, cli.integer("hidden")), 1);
      TrainingState st;
      load_checkpoint(cli.str("verify"), run.store, &run.adam, &st);
      std::printf("{\"verified\":\"%s\",\"step\":%lld}\n", cli.str("verify").c_str(), static_cast<long long>(st.global_step));
      return 0;
    }
    DataParallel dp(cli);
    int64_t hidden = cli.integer("hidden");
    if (dp.rank() == cli.integer("hidden-on-rank")) hidden += 4;
    const auto config = tiny_config("lstm", false, hidden);
    TinyRun<float> run(config, 1);
    dp.attach(run.trainer, run.store, {{"hidden_dim", std::to_string(config.hidden_dim)}, {"cell", config.cell}});
    std::unique_ptr<CheckpointManager> ckpt;
    if (!dp.root_only(cli.str("checkpoint")).empty()) ckpt = std::make_unique<CheckpointManager>(cli.str("checkpoint"));
    const TinyData d = tiny_data(60, 30, 5, 9, 3);
    for (int64_t s = 0; s < cli.integer("steps"); ++s) {
      if (s == cli.integer("fault-step") && dp.rank() == cli.integer("fault-rank")) {
        if (cli.str("fault") == "throw") throw std::runtime_error("injected fault at step " + std::to_string(s));
        if (cli.str("fault") == "kill") std::raise(SIGKILL);
      }
      run.step(d, dp.shard(global_batch(s, 12, 60)));
      if (ckpt && (s + 1) % 5 == 0) {
        TrainingState st;
        st.global_step = run.adam.steps();
        ckpt->save(run.store, &run.adam, st, {}, false);
      }
    }
    if (dp.root()) std::printf("{\"steps\":%lld,\"ranks\":%d}\n", static_cast<long long>(run.adam.steps()), dp.size());
    return 0;
  });
}
