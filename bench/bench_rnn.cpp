// bench_rnn: times a reel recurrent layer at one shape and prints one JSON line per metric.
// bench/torch_rnn_bench.py is the same benchmark for nn.RNN / nn.LSTM / nn.GRU; bench/run_benchmarks.py
// runs both over the grid and writes the comparison table.
//
// --cell rnn (default): VanillaRNN<float> (forward_sequence), exactly the path docs/benchmarks.md
// measured. --cell lstm|gru: a one-layer, one-direction SequenceRunner<float> on
// RunnerInput<float>::padded(X) (every sequence full length); forward and forward_backward ask for
// the per-step output (B, T, d), the training step only for the final states (outputs = false, as
// SequenceClassifier does). G = 1 (rnn), 4 (lstm), 3 (gru) gate blocks below.
//
// Metrics (--metric all, or a comma list):
//   peak_mib          forward + backward of the sum of all hidden states, 2 iterations, measured FIRST
//                     in this fresh process: VmHWM - VmRSS from /proc/self/status, after the model and
//                     input exist and the high-water mark is reset (echo 5 > /proc/self/clear_refs).
//                     The tape's own TapeStats::peak_bytes is reported beside it.
//   forward           forward_sequence (rnn) / runner forward (lstm, gru) under NoGradGuard
//                     (inference: nothing recorded).
//   forward_backward  forward, loss = sum(stack_time(h_1..h_T)) (rnn) / sum(output) (lstm, gru), backward.
//   train_step        forward, Linear head on h_T (10 classes), cross_entropy, backward, SGD step,
//                     zero_grad.
//   fma_peak          (only when named) the machine's single-thread FMA peak (bench/fma_peak.h), GFLOP/s.
//   sgemm             raw reel::blas::gemm at the forward's shapes: the recurrent (B×d)·(d×G·d) and the
//                     input projection (B·T×n)·(n×G·d); "floor_ms" = one input GEMM + T recurrent GEMMs,
//                     the time a forward would take if it were nothing but its GEMMs.
// Each timed metric: --warmup untimed iterations, then --reps timed ones; median, min and max ms.
// One Tape is reused with clear() between iterations (reel's steady state).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/fma_peak.h"
#include "examples/example_common.h"
#include "framework/blas.h"
#include "framework/ops.h"
#include "framework/optim/optimizer.h"
#include "framework/rng.h"
#include "framework/tape.h"
#include "models/linear.h"
#include "models/sequence_runner.h"
#include "models/vanilla_rnn.h"

using namespace reel;
using reel::examples::JsonLine;

namespace {

using namespace reel::bench;

// kB value of a "Key:   123 kB" line of /proc/self/status; -1 if absent.
double proc_status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1));
  return -1;
}

bool reset_hwm() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("bench_rnn", "Times reel's VanillaRNN, or a one-layer LSTM/GRU SequenceRunner (forward, forward+backward, "
                       "training step, peak memory, raw sgemm) at one shape; one JSON line per metric.");
  cli.option("cell", "rnn", "rnn (VanillaRNN), lstm or gru (one-layer SequenceRunner)")
      .option("batch", "32", "batch size B")
      .option("seq", "100", "sequence length T")
      .option("hidden", "256", "hidden size d")
      .option("input", "100", "input size n")
      .option("classes", "10", "classes of the training step's linear head")
      .option("threads", "1", "OpenBLAS threads (blas::set_threads)")
      .option("reps", "10", "timed repetitions per metric")
      .option("warmup", "2", "untimed warm-up repetitions per metric")
      .option("max-seconds", "0", "per-metric time budget in s (0: none); reps then stop early, >= 3 kept")
      .option("metric", "all", "all, or a comma list of peak_mib,forward,forward_backward,train_step,sgemm,fma_peak")
      .option("seed", "1", "random seed");
  return examples::run_main(cli, argc, argv, [&]() -> int {
    const int64_t B = cli.integer("batch"), Tn = cli.integer("seq"), d = cli.integer("hidden"),
                  n = cli.integer("input"), C = cli.integer("classes");
    const int reps = static_cast<int>(cli.integer("reps")), warmup = static_cast<int>(cli.integer("warmup"));
    const int threads = static_cast<int>(cli.integer("threads"));
    const double max_s = cli.number("max-seconds");
    if (B < 1 || Tn < 1 || d < 1 || n < 1 || C < 2 || reps < 1 || warmup < 0)
      throw UsageError("bench_rnn: batch, seq, hidden, input, reps must be >= 1, classes >= 2, warmup >= 0");
    std::vector<std::string> metrics = split(cli.str("metric"));
    if (metrics.size() == 1 && metrics[0] == "all")
      metrics = {"peak_mib", "forward", "forward_backward", "train_step", "sgemm"};
    for (const auto& m : metrics)
      if (m != "peak_mib" && m != "forward" && m != "forward_backward" && m != "train_step" && m != "sgemm" &&
          m != "fma_peak")
        throw UsageError("bench_rnn: unknown metric '" + m + "'");
    const std::string cell = cli.str("cell");
    if (cell != "rnn" && cell != "lstm" && cell != "gru")
      throw UsageError("bench_rnn: --cell must be rnn, lstm or gru, got '" + cell + "'");
    const int64_t G = cell == "lstm" ? 4 : cell == "gru" ? 3 : 1;  // gate blocks of the projections
    // peak_mib must run first: the process is fresh only once.
    std::stable_partition(metrics.begin(), metrics.end(), [](const std::string& m) { return m == "peak_mib"; });

    // ---- setup: model, head, optimizer, data (all before any measurement)
    Rng rng(static_cast<uint64_t>(cli.integer("seed")));
    ParameterStore<float> store;
    // rnn: VanillaRNN, as before the gated cells existed (same parameters, same Rng draws).
    // lstm/gru: a one-layer SequenceRunner. Only one of the two is built.
    std::unique_ptr<VanillaRNN<float>> rnn;
    std::unique_ptr<SequenceRunner<float>> runner;
    if (cell == "rnn") {
      RNNConfig cfg;
      cfg.input_dim = n;
      cfg.hidden_dim = d;
      cfg.output_dim = 0;
      rnn = std::make_unique<VanillaRNN<float>>(store, cfg, rng);
    } else {
      RunnerConfig rc;
      rc.cell = cell;
      rc.input_dim = n;
      rc.hidden_dim = d;
      rc.num_layers = 1;
      rc.bidirectional = false;
      runner = std::make_unique<SequenceRunner<float>>(store, rc, rng);
    }
    Linear<float> head(store, d, C, rng, "head");
    SGD<float> sgd(store.all(), SGDOptions{0.01});
    std::vector<float> x(static_cast<size_t>(B * Tn * n));
    for (float& v : x) v = static_cast<float>(rng.normal());
    std::vector<int64_t> targets(static_cast<size_t>(B));
    for (int64_t& t : targets) t = static_cast<int64_t>(rng.below(static_cast<uint64_t>(C)));
    const Shape xshape{B, Tn, n};
    Tape<float> tape;
    volatile float sink = 0;  // keeps results observably used

    auto forward = [&] {
      tape.clear();
      NoGradGuard<float> ng(tape);
      if (rnn) {
        auto seq = rnn->forward_sequence(tape, tape.input(x.data(), xshape));
        sink = seq.final_hidden.data()[0];
      } else {
        auto out = runner->forward(tape, RunnerInput<float>::padded(tape.input(x.data(), xshape)));
        sink = out.output.data()[0];
      }
    };
    auto forward_backward = [&] {
      tape.clear();
      Var<float> loss;
      if (rnn) {
        auto seq = rnn->forward_sequence(tape, tape.input(x.data(), xshape));
        loss = sum(stack_time(seq.hidden_states));
      } else {
        loss = sum(runner->forward(tape, RunnerInput<float>::padded(tape.input(x.data(), xshape))).output);
      }
      tape.backward(loss);
      sink = loss.item();
    };
    // The final hidden state h_T (batch, d) the training step's head reads.
    auto final_hidden = [&]() -> Var<float> {
      if (rnn) return rnn->forward_sequence(tape, tape.input(x.data(), xshape)).final_hidden;
      return runner->forward(tape, RunnerInput<float>::padded(tape.input(x.data(), xshape)), {}, /*outputs=*/false)
          .final_hidden();
    };
    auto train_step = [&] {
      tape.clear();
      Var<float> loss = cross_entropy(head.forward(tape, final_hidden()), targets);
      tape.backward(loss);
      sgd.step();
      store.zero_grad();
      sink = loss.item();
    };

    const std::string kernel = json_escape(blas::describe());
    auto line = [&](const std::string& metric) {
      JsonLine j;
      j.add("side", std::string("reel")).add("cell", cell).add("metric", metric).add("batch", B).add("seq_len", Tn)
          .add("hidden", d).add("input", n).add("threads", static_cast<int64_t>(threads))
          .add("reps", static_cast<int64_t>(reps)).add("warmup", static_cast<int64_t>(warmup));
      return j;
    };
    // Useful forward FLOPs: the input projection and the recurrent products, G gate blocks each.
    const double fwd_flops = 2.0 * static_cast<double>(B) * static_cast<double>(Tn) * static_cast<double>(G) *
                             (static_cast<double>(n) * static_cast<double>(d) + static_cast<double>(d) * static_cast<double>(d));

    for (const std::string& m : metrics) {
      if (m == "peak_mib") {
        const bool reset = reset_hwm();
        const double base_kb = proc_status_kb("VmRSS");
        TapeStats st;
        for (int i = 0; i < 2; ++i) {  // the first iteration grows the arenas; the second is steady state
          forward_backward();
          st = tape.stats();
        }
        const double mib = 1024.0 * 1024.0;
        const double hwm_kb = proc_status_kb("VmHWM");
        store.zero_grad();
        JsonLine j = line(m);
        j.add("peak_mib", (hwm_kb - base_kb) / 1024.0)
            .add("vmhwm_mib", hwm_kb / 1024.0)
            .add("baseline_rss_mib", base_kb / 1024.0)
            .add("tape_peak_mib", static_cast<double>(st.peak_bytes) / mib)
            .add("tape_value_mib", static_cast<double>(st.value_bytes) / mib)
            .add("tape_grad_mib", static_cast<double>(st.grad_bytes) / mib)
            .add("tape_saved_mib", static_cast<double>(st.saved_bytes) / mib)
            .add("tape_capacity_mib", static_cast<double>(st.capacity_bytes) / mib)
            .add("hwm_reset", static_cast<int64_t>(reset))
            .add("kernel", kernel);
        j.print();
      } else if (m == "fma_peak") {
        const FmaPeak p = measure_fma_peak();
        JsonLine j = line(m);
        j.add("gflops", p.gflops()).add("avx512_gflops", p.avx512_gflops).add("avx2_gflops", p.avx2_gflops);
        j.print();
      } else if (m == "sgemm") {
        const int64_t Gd = G * d;  // output columns of both products
        std::vector<float> h(static_cast<size_t>(B * d), 0.5f), w(static_cast<size_t>(d * Gd), 0.01f),
            out(static_cast<size_t>(B * Gd)), xp(static_cast<size_t>(B * Tn * Gd)),
            wx(static_cast<size_t>(n * Gd), 0.01f);
        // Recurrent GEMM (B×d)·(d×G·d): T of them per rep, as in one forward.
        const Timing rec = time_it(warmup, reps, max_s, [&] {
          for (int64_t t = 0; t < Tn; ++t)
            blas::gemm(false, false, B, Gd, d, 1.0f, h.data(), d, w.data(), Gd, 0.0f, out.data(), Gd);
          sink = out[0];
        });
        // Input projection (B·T×n)·(n×G·d).
        const Timing inp = time_it(warmup, reps, max_s, [&] {
          blas::gemm(false, false, B * Tn, Gd, n, 1.0f, x.data(), n, wx.data(), Gd, 0.0f, xp.data(), Gd);
          sink = xp[0];
        });
        const double rec_flops = 2.0 * static_cast<double>(B) * static_cast<double>(d) * static_cast<double>(Gd) *
                                 static_cast<double>(Tn);
        const double inp_flops = 2.0 * static_cast<double>(B * Tn) * static_cast<double>(n) * static_cast<double>(Gd);
        JsonLine j = line(m);
        j.add("recurrent_gflops", rec_flops / (rec.median * 1e6))
            .add("input_gflops", inp_flops / (inp.median * 1e6))
            .add("floor_ms", rec.median + inp.median)
            .add("floor_gflops", fwd_flops / ((rec.median + inp.median) * 1e6))
            .add("recurrent_ms_per_step", rec.median / static_cast<double>(Tn))
            .add("gates", G)
            .add("kernel", kernel);
        j.print();
      } else {
        const auto& fn = m == "forward" ? std::function<void()>(forward)
                         : m == "forward_backward" ? std::function<void()>(forward_backward)
                                                   : std::function<void()>(train_step);
        store.zero_grad();
        const Timing t = time_it(warmup, reps, max_s, fn);
        store.zero_grad();
        JsonLine j = line(m);
        j.add("median_ms", t.median).add("min_ms", t.min).add("max_ms", t.max)
            .add("reps_done", static_cast<int64_t>(t.samples.size())).raw("samples_ms", json_array(t.samples));
        if (m == "forward") j.add("gflops", fwd_flops / (t.median * 1e6));
        j.add("kernel", kernel);
        j.print();
      }
    }
    (void)sink;
    return 0;
  });
}
