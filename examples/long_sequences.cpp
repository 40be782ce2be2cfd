// long_sequences: the adding problem at long T, trained three ways from the same initialisation on
// the same batches, side by side:
//   full          full BPTT (memory::record_full), one Trainer::step per batch;
//   checkpointed  gradient checkpointing, uniform segments of ⌈√T⌉ (--k) or a byte budget
//                 (--budget-mb): exact gradients, so its losses are bitwise those of full BPTT;
//   tbptt         truncated BPTT, windows of --k1 steps forward / --k2 back, state carried across
//                 windows; the adding problem's only loss is at the last step, so each batch makes
//                 one optimizer step, from the last window, and gradients reach back --k2 steps.
// Reported per method: loss at the end of training, MSE on a held-out batch (always answering 1
// scores about 0.167), milliseconds per batch, and peak bytes (tape values + gradients, plus stored
// states and buffers). A table goes to stderr, one JSON line to stdout.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "examples/example_common.h"
#include "models/adding_task.h"
#include "framework/memory/checkpointed.h"
#include "framework/memory/tbptt.h"
#include "framework/ops.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"

using namespace reel;
using namespace reel::memory;
using reel::examples::JsonLine;

namespace {

struct Method {
  std::string name;
  ParameterStore<float> store;
  std::unique_ptr<AddingModel<float>> model;
  std::unique_ptr<Adam<float>> adam;
  std::unique_ptr<Trainer<float>> trainer;
  Tape<float> tape;
  std::vector<double> losses;
  double ms = 0;
  size_t peak = 0;
  int64_t optimizer_steps = 0;
};

// MSE of the model on a batch, forward only (advance keeps one step on the tape at a time).
double eval_mse(const AddingModel<float>& model, const AddingBatch<float>& batch) {
  const SequenceProblem<float> p = model.problem(batch);
  Tape<float> tape;
  std::vector<float> h(static_cast<size_t>(p.batch() * p.state_dim()), 0.0f);
  std::vector<float> finals(static_cast<size_t>(p.batch() * p.output_dim()), 0.0f);
  advance(tape, p, 0, p.steps(), h, finals.data());
  NoGradGuard<float> no_grad(tape);
  tape.clear();
  return p.final_loss(tape, tape.input(finals, Shape{p.batch(), p.output_dim()})).item();
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("long_sequences", "The adding problem at long T: full BPTT, checkpointing and truncated BPTT side by side.");
  cli.option("steps", "1000", "sequence length T").integer_in(1, 1000000)
      .option("batch", "32", "batch size").integer_in(1, 65536)
      .option("hidden", "128", "hidden size").integer_in(1, 16384)
      .option("activation", "relu", "tanh or relu (relu starts from W_hh = I, the IRNN recipe)")
      .option("iters", "40", "training batches").integer_in(1, 100000000)
      .option("lr", "1e-3", "Adam learning rate").number_in(1e-12, 10)
      .option("clip", "1.0", "gradient-norm clipping (0: off)").number_in(0, 1e12)
      .option("k", "0", "checkpointing segment length (0: ceil(sqrt(T)))").integer_in(0, 1000000)
      .option("budget-mb", "0", "checkpointing under this many MB instead of uniform segments (0: off)").number_in(0, 1e7)
      .option("k1", "100", "TBPTT window (forward steps)").integer_in(1, 1000000)
      .option("k2", "0", "TBPTT backward steps at each window's end (0: k1)").integer_in(0, 1000000)
      .option("threads", "1", "BLAS threads").integer_in(1, 256)
      .option("seed", "1", "random seed").integer_in(0, int64_t{1} << 53)
      .option("cell", "rnn", "recurrent cell: rnn, lstm or gru (the IRNN init applies to rnn with relu)")
      .flag("quick", "T=60, hidden 16, 5 batches (seconds, for CI)");
  return examples::run_main(cli, argc, argv, [&] {
    const bool quick = cli.on("quick");
    const int64_t Tn = quick ? 60 : cli.integer("steps"), B = quick ? 8 : cli.integer("batch");
    const int64_t d = quick ? 16 : cli.integer("hidden"), iters = quick ? 5 : cli.integer("iters");
    const int64_t k1 = quick ? 20 : cli.integer("k1"), k2 = quick ? 0 : cli.integer("k2");
    const std::string act = cli.str("activation");
    const uint64_t seed = static_cast<uint64_t>(cli.integer("seed"));

    std::vector<std::unique_ptr<Method>> methods;
    for (const char* name : {"full", "checkpointed", "tbptt"}) {
      auto m = std::make_unique<Method>();
      m->name = name;
      Rng init(seed);  // the same initialisation for every method
      const std::string cell = cli.str("cell");
      m->model = std::make_unique<AddingModel<float>>(m->store, d, act, init, cell == "rnn" && act == "relu", cell);
      AdamOptions ao;
      ao.lr = cli.number("lr");
      m->adam = std::make_unique<Adam<float>>(m->store.all(), ao);
      TrainerOptions to;
      to.clip_norm = cli.number("clip");
      m->trainer = std::make_unique<Trainer<float>>(m->store, *m->adam, to);
      methods.push_back(std::move(m));
    }
    Method& full = *methods[0];
    Method& ckpt_m = *methods[1];
    Method& tb_m = *methods[2];
    CheckpointedBPTT<float> ckpt;
    Rng data(seed + 17), held_out(seed + 99);
    const AddingBatch<float> eval_batch = make_adding_batch<float>(B, Tn, held_out);
    Plan plan;
    bool same_losses = true;

    for (int64_t it = 0; it < iters; ++it) {
      const AddingBatch<float> batch = make_adding_batch<float>(B, Tn, data);
      for (auto& mp : methods) {
        Method& m = *mp;
        const SequenceProblem<float> p = m.model->problem(batch);
        if (it == 0 && &m == &ckpt_m) {
          const MemoryModel mm = memory_model(p);
          const double mb = cli.number("budget-mb");
          plan = mb > 0 ? plan_for_budget(mm, static_cast<size_t>(mb * 1e6)) : plan_uniform(mm, cli.integer("k"));
          spdlog::info("checkpointing plan: {} (full BPTT would need {:.1f} MB)", plan.describe(), mm.full_bptt() / 1e6);
        }
        const auto t0 = std::chrono::steady_clock::now();
        if (&m == &full) {
          m.losses.push_back(m.trainer->step(m.tape, [&](Tape<float>& t) { return record_full(t, p); }).loss);
          m.peak = std::max(m.peak, m.tape.stats().peak_bytes);
          ++m.optimizer_steps;
        } else if (&m == &ckpt_m) {
          m.losses.push_back(m.trainer->step(m.tape, [&](Tape<float>& t) { return ckpt.run_as_loss(t, p, plan); }).loss);
          m.peak = std::max(m.peak, ckpt.last().peak_bytes);
          ++m.optimizer_steps;
        } else {
          TruncatedBPTT<float> tb(p, {k1, k2});
          // Windows by hand, to see each window's tape: the last one carries the loss.
          while (!tb.done()) {
            if (!tb.has_loss(tb.next_window())) {
              tb.skip_window(m.tape);
              continue;
            }
            m.losses.push_back(m.trainer->step(m.tape, [&](Tape<float>& t) { return tb.record_window(t); }).loss);
            m.peak = std::max(m.peak, m.tape.stats().peak_bytes + 2 * tb.state().size() * sizeof(float));
            ++m.optimizer_steps;
          }
        }
        m.ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      }
      same_losses = same_losses && std::memcmp(&full.losses.back(), &ckpt_m.losses.back(), sizeof(double)) == 0;
      if (it % std::max<int64_t>(1, iters / 10) == 0 || it + 1 == iters)
        spdlog::info("batch {:>4}: loss full {:.4f}  checkpointed {:.4f}  tbptt {:.4f}", it, full.losses.back(),
                     ckpt_m.losses.back(), tb_m.losses.back());
    }

    std::string rows;
    for (auto& mp : methods) {
      Method& m = *mp;
      const size_t tail = std::min<size_t>(5, m.losses.size());
      double recent = 0;
      for (size_t i = m.losses.size() - tail; i < m.losses.size(); ++i) recent += m.losses[i] / static_cast<double>(tail);
      const double mse_eval = eval_mse(*m.model, eval_batch);
      spdlog::info("{:>12}: final loss {:.4f}, held-out MSE {:.4f}, {:.1f} ms/batch, peak {:.2f} MB, {} optimizer steps",
                   m.name, recent, mse_eval, m.ms / static_cast<double>(iters), m.peak / 1e6, m.optimizer_steps);
      std::string body;
      {
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "{\"name\":\"%s\",\"final_loss\":%.6g,\"eval_mse\":%.6g,\"ms_per_batch\":%.6g,\"peak_bytes\":%zu,"
                      "\"optimizer_steps\":%lld}",
                      m.name.c_str(), recent, mse_eval, m.ms / static_cast<double>(iters), m.peak,
                      static_cast<long long>(m.optimizer_steps));
        body = buf;
      }
      rows += (rows.empty() ? "" : ",") + body;
    }
    JsonLine j;
    j.add("task", std::string("adding")).add("T", Tn).add("batch", B).add("hidden", d).add("iters", iters);
    j.add("cell", cli.str("cell")).add("activation", act).add("checkpoint_plan", std::string(plan_kind_name(plan.kind)));
    j.add("checkpoint_segment", plan.longest_chunk()).add("tbptt_k1", k1).add("tbptt_k2", k2 > 0 ? k2 : k1);
    j.raw("checkpointed_losses_equal_full", same_losses ? "true" : "false");
    j.raw("methods", "[" + rows + "]");
    j.print();
    return 0;
  });
}
