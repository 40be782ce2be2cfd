// bench_checkpointing: forward + backward time and memory of full BPTT against gradient
// checkpointing at one shape (default B=32, hidden 512, T=5000: the acceptance point), on
// the adding problem (2 inputs, Linear head on the last state, MSE).
//
// Modes, interleaved rep by rep so machine noise hits all alike:
//   stock         VanillaRNN::forward_sequence (one input GEMM over all steps) + head, backward
//   full          memory::record_full: the stepwise reference checkpointing is bitwise equal to
//   checkpointed  memory::CheckpointedBPTT with uniform segments of k = ⌈√T⌉ (--k)
//   budget        memory::plan_for_budget(full bytes / --budget-div)
// Each: --warmup untimed iterations (the arenas reach their size), then --reps timed: median and
// min wall time, and median process CPU time (robust when other processes share the cores).
// Memory: the tape's measured peak (values + gradients, + stored states and host buffers for the
// checkpointed runs). The JSON line carries the ratios the issue asks for:
//   checkpointed_bytes / full_bytes (<= 0.1) and checkpointed_ms / full_ms (<= 1.4).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "examples/example_common.h"
#include "models/adding_task.h"
#include "framework/memory/checkpointed.h"

using namespace reel;
using namespace reel::memory;
using reel::examples::JsonLine;

namespace {
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}
double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

int main(int argc, char** argv) {
  Cli cli("bench_checkpointing", "Full BPTT vs gradient checkpointing: forward+backward time and memory.");
  cli.option("batch", "32", "batch size")
      .option("hidden", "512", "hidden size")
      .option("steps", "5000", "sequence length T")
      .option("k", "0", "segment length (0: ceil(sqrt(T)))")
      .option("budget-div", "50", "budget mode: full BPTT's bytes divided by this (0: skip)")
      .option("reps", "3", "timed repetitions per mode")
      .option("warmup", "1", "untimed repetitions per mode")
      .option("threads", "1", "BLAS threads")
      .option("seed", "1", "random seed")
      .option("cell", "rnn", "recurrent cell: rnn, lstm or gru")
      .flag("no-stock", "skip the forward_sequence baseline");
  return examples::run_main(cli, argc, argv, [&] {
    const int64_t B = cli.integer("batch"), d = cli.integer("hidden"), Tn = cli.integer("steps");
    Rng rng(static_cast<uint64_t>(cli.integer("seed")));
    ParameterStore<float> store;
    AddingModel<float> model(store, d, "tanh", rng, false, cli.str("cell"));
    const AddingBatch<float> batch = make_adding_batch<float>(B, Tn, rng);
    const SequenceProblem<float> p = model.problem(batch);
    const MemoryModel mm = memory_model(p);
    const Plan uniform = plan_uniform(mm, cli.integer("k"));
    const int64_t div = cli.integer("budget-div");
    const size_t budget = div > 0 ? mm.full_bptt() / static_cast<size_t>(div) : 0;
    Plan budget_plan;
    if (budget) budget_plan = plan_for_budget(mm, budget);
    spdlog::info("B={} hidden={} T={}: {} | budget {} bytes -> {}", B, d, Tn, uniform.describe(), budget,
                 budget ? budget_plan.describe() : "skipped");

    Tape<float> stock_tape, full_tape, ckpt_tape, budget_tape;
    CheckpointedBPTT<float> ckpt, ckpt_budget;
    struct Mode {
      std::string name;
      std::function<size_t()> run;  // returns measured peak bytes
      std::vector<double> ms, cpu;
      size_t bytes = 0;
      std::vector<float> grads;  // after the last run
    };
    std::vector<Mode> modes;
    if (!cli.on("no-stock"))
      modes.push_back({"stock", [&] {
                         stock_tape.clear();
                         Var<float> loss = model.stock_loss(stock_tape, batch);
                         stock_tape.backward(loss);
                         return stock_tape.stats().peak_bytes;
                       }});
    modes.push_back({"full", [&] {
                       full_tape.clear();
                       Var<float> loss = record_full(full_tape, p);
                       full_tape.backward(loss);
                       return full_tape.stats().peak_bytes;
                     }});
    modes.push_back({"checkpointed", [&] { return ckpt.run(ckpt_tape, p, uniform).peak_bytes; }});
    if (budget) modes.push_back({"budget", [&] { return ckpt_budget.run(budget_tape, p, budget_plan).peak_bytes; }});

    const int64_t warmup = cli.integer("warmup"), reps = cli.integer("reps");
    for (int64_t r = 0; r < warmup + reps; ++r)
      for (Mode& m : modes) {
        store.zero_grad();
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = cpu_ms();
        m.bytes = m.run();
        const double cpu = cpu_ms() - c0;
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (r >= warmup) m.ms.push_back(ms), m.cpu.push_back(cpu);
        m.grads.clear();
        for (auto* q : store.all()) m.grads.insert(m.grads.end(), q->grad.begin(), q->grad.end());
        spdlog::info("rep {} {}: {:.1f} ms (cpu {:.1f} ms), {:.1f} MB", r, m.name, ms, cpu, m.bytes / 1e6);
      }
    auto find = [&](const std::string& n) -> Mode* {
      for (Mode& m : modes)
        if (m.name == n) return &m;
      return nullptr;
    };
    Mode& full = *find("full");
    Mode& cp = *find("checkpointed");
    JsonLine j;
    j.add("bench", std::string("checkpointing")).add("batch", B).add("hidden", d).add("T", Tn);
    j.add("k", uniform.longest_chunk()).add("threads", cli.integer("threads")).add("reps", reps);
    for (Mode& m : modes) {
      j.add(m.name + "_ms", median(m.ms));
      j.add(m.name + "_min_ms", min_of(m.ms));
      j.add(m.name + "_cpu_ms", median(m.cpu));
      j.add(m.name + (m.name == "budget" ? "_peak_bytes" : "_bytes"), static_cast<int64_t>(m.bytes));
    }
    j.add("checkpointed_estimate_bytes", static_cast<int64_t>(uniform.peak_bytes));
    j.add("checkpointed_recomputed_steps", uniform.recomputed_steps);
    j.add("bytes_ratio", static_cast<double>(cp.bytes) / static_cast<double>(full.bytes));
    j.add("time_ratio", median(cp.ms) / median(full.ms));
    j.add("time_ratio_min", min_of(cp.ms) / min_of(full.ms));
    j.add("time_ratio_cpu", median(cp.cpu) / median(full.cpu));
    if (Mode* s = find("stock")) {
      j.add("time_ratio_vs_stock", median(cp.ms) / median(s->ms));
      j.add("bytes_ratio_vs_stock", static_cast<double>(cp.bytes) / static_cast<double>(s->bytes));
    }
    const bool equal = full.grads.size() == cp.grads.size() &&
                       std::memcmp(full.grads.data(), cp.grads.data(), full.grads.size() * sizeof(float)) == 0;
    j.raw("grads_bitwise_equal", equal ? "true" : "false");
    if (Mode* b = find("budget")) {
      j.add("budget_bytes", static_cast<int64_t>(budget)).add("budget_plan", std::string(plan_kind_name(budget_plan.kind)));
      j.add("budget_recomputed_steps", budget_plan.recomputed_steps).add("budget_snapshots", budget_plan.snapshots);
      j.raw("budget_fits", b->bytes <= budget ? "true" : "false");
    }
    j.raw("time_ok", median(cp.ms) <= 1.4 * median(full.ms) ? "true" : "false");
    j.raw("bytes_ok", cp.bytes * 10 <= full.bytes ? "true" : "false");
    j.print();
    return 0;
  });
}
