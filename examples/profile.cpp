// The reference's profiling section, in reel:
//
//  1. profile_rnn_forward(): a VanillaRNN<float> (input 100, no output layer) over a grid of
//     hidden sizes × sequence lengths; per point the forward time (mean of --reps runs after
//     --warmup, as the reference; the median beside it) and the reference's memory estimate,
//     activations B·T·d·4 bytes + parameters·4 bytes, in MB (10^6 bytes) — with what the tape
//     actually held (TapeStats::peak_bytes, values + gradients) beside it.
//     Default grid = the reference's __main__: batch 16, hidden {128,256}, seq {50,100}.
//  2. analyze_sequential_bottleneck(): a step-by-step cell loop, h_t = forward_step(x_t, h_{t-1}),
//     batch 32, hidden 256, for T in {10,50,100,200}: each step waits for the previous one, so the
//     time grows linearly with T. A least-squares line through (T, time) gives the cost per step.
//
// Forwards record the tape (grad mode on), as the reference's rnn(x) does; --inference runs them
// under NoGradGuard instead. The last stdout line is one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "examples/example_common.h"
#include "framework/blas.h"
#include "framework/ops.h"
#include "framework/rng.h"
#include "framework/tape.h"
#include "models/vanilla_rnn.h"

using namespace reel;

namespace {

using Clock = std::chrono::steady_clock;


double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

std::vector<float> random_input(Rng& rng, int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

template <class F>
std::vector<double> time_runs(int warmup, int reps, F&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return ms;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("profile", "The reference's RNN profiling: forward time and memory over hidden × seq_len, and the "
                     "sequential bottleneck of a step-by-step cell loop. Last line: JSON.");
  cli.option("batch", "16", "batch size of the profiling grid").integer_in(1, 65536)
      .option("hidden", "128,256", "hidden sizes of the profiling grid (comma list)")
      .option("seq", "50,100", "sequence lengths of the profiling grid (comma list)")
      .option("input", "100", "input size").integer_in(1, 16384)
      .option("warmup", "3", "untimed forwards per point").integer_in(0, 1000000)
      .option("reps", "10", "timed forwards per point").integer_in(1, 1000000)
      .option("bottleneck-batch", "32", "batch size of the bottleneck demonstration").integer_in(1, 65536)
      .option("bottleneck-hidden", "256", "hidden size of the bottleneck demonstration").integer_in(1, 16384)
      .option("bottleneck-seq", "10,50,100,200", "sequence lengths of the bottleneck demonstration")
      .option("bottleneck-reps", "5", "timed cell loops per length (median reported)").integer_in(1, 1000000)
      .option("threads", "1", "BLAS threads").integer_in(1, 256)
      .option("seed", "1", "random seed").integer_in(0, int64_t{1} << 53)
      .flag("inference", "run the forwards under NoGradGuard (record nothing)");
  return examples::run_main(cli, argc, argv, [&]() -> int {
    const int64_t batch = cli.integer("batch"), input = cli.integer("input");
    const std::vector<int64_t> hiddens = cli.integers("hidden", 1, 16384), seqs = cli.integers("seq", 1, 1000000);
    const int warmup = static_cast<int>(cli.integer("warmup")), reps = static_cast<int>(cli.integer("reps"));
    const int64_t bb = cli.integer("bottleneck-batch"), bh = cli.integer("bottleneck-hidden");
    const std::vector<int64_t> bseqs = cli.integers("bottleneck-seq", 1, 1000000);
    const int breps = static_cast<int>(cli.integer("bottleneck-reps"));
    const bool inference = cli.on("inference");
    if (batch < 1 || input < 1 || bb < 1 || bh < 1 || warmup < 0 || reps < 1 || breps < 1)
      throw UsageError("profile: batch, input, reps must be >= 1 and warmup >= 0");
    Rng rng(static_cast<uint64_t>(cli.integer("seed")));
    Tape<float> tape;
    const std::string eq(78, '='), dash(78, '-');

    // ---- 1. profile_rnn_forward
    std::printf("RNN Forward Pass Profiling (%s)\n%s\n", inference ? "inference: NoGradGuard" : "tape recording",
                eq.c_str());
    std::printf("Batch size: %lld, Input dim: %lld, BLAS: %s, threads %d\n%s\n", static_cast<long long>(batch),
                static_cast<long long>(input), blas::describe().c_str(), blas::threads(), dash.c_str());
    std::printf("%10s %8s %11s %11s %13s %11s\n", "Hidden Dim", "Seq Len", "Time (ms)", "Median ms", "Memory (MB)",
                "Tape (MB)");
    std::printf("%s\n", dash.c_str());
    std::string prof_json = "[";
    for (int64_t d : hiddens) {
      for (int64_t T : seqs) {
        ParameterStore<float> store;
        RNNConfig cfg;
        cfg.input_dim = input;
        cfg.hidden_dim = d;
        VanillaRNN<float> rnn(store, cfg, rng);
        const std::vector<float> x = random_input(rng, batch * T * input);
        size_t tape_peak = 0;
        const std::vector<double> ms = time_runs(warmup, reps, [&] {
          tape.clear();
          std::optional<NoGradGuard<float>> guard;
          if (inference) guard.emplace(tape);
          auto seq = rnn.forward_sequence(tape, tape.input(x.data(), Shape{batch, T, input}));
          (void)seq;
          tape_peak = std::max(tape_peak, tape.stats().peak_bytes);
        });
        // The reference's estimate: hidden states B·T·d floats + parameters, 4 bytes each, MB = 1e6 bytes.
        const double activation_mb = static_cast<double>(batch * T * d) * 4 / 1e6;
        const double param_mb = static_cast<double>(store.num_elements()) * 4 / 1e6;
        const double tape_mb = static_cast<double>(tape_peak) / 1e6;
        std::printf("%10lld %8lld %11.2f %11.2f %13.2f %11.2f\n", static_cast<long long>(d), static_cast<long long>(T),
                    mean(ms), median(ms), activation_mb + param_mb, tape_mb);
        prof_json += (prof_json.size() > 1 ? "," : "") + std::string("{\"hidden\":") + std::to_string(d) +
                     ",\"seq_len\":" + std::to_string(T) + ",\"time_ms\":" + fixed(mean(ms), 4) +
                     ",\"median_ms\":" + fixed(median(ms), 4) + ",\"memory_mb\":" + fixed(activation_mb + param_mb, 4) +
                     ",\"tape_mb\":" + fixed(tape_mb, 4) + "}";
      }
    }
    prof_json += "]";
    std::printf("%s\nTime: mean of %d forwards after %d warm-up (median beside it). Memory: the reference's\n"
                "estimate, hidden states B*T*d*4 B + parameters*4 B; Tape: what the tape held at its peak\n"
                "(every recorded value: inputs, projections, pre-activations, hidden states).\n\n",
                dash.c_str(), reps, warmup);

    // ---- 2. analyze_sequential_bottleneck
    std::printf("%s\nSEQUENTIAL BOTTLENECK ANALYSIS\n%s\n", eq.c_str(), eq.c_str());
    std::printf(
        "RNNs have an inherent sequential dependency:\n"
        "  h_1 = f(x_1, h_0)\n"
        "  h_2 = f(x_2, h_1)   <- must wait for h_1\n"
        "  h_3 = f(x_3, h_2)   <- must wait for h_2\n"
        "  ...\n"
        "h_3 cannot be computed before h_2 is done, so timesteps cannot run in parallel and the time\n"
        "grows linearly with the sequence length, whatever the number of cores. (Only the input\n"
        "projections x_t*W_xh are independent; forward_sequence batches them into one GEMM.)\n\n");
    ParameterStore<float> bstore;
    RNNConfig bcfg;
    bcfg.input_dim = input;
    bcfg.hidden_dim = bh;
    VanillaRNN<float> cell(bstore, bcfg, rng, "cell");
    std::printf("Step-by-step cell loop, batch %lld, hidden %lld, input %lld (median of %d loops):\n",
                static_cast<long long>(bb), static_cast<long long>(bh), static_cast<long long>(input), breps);
    std::printf("%10s %11s %14s %16s\n", "Seq Len", "Time (ms)", "ms per step", "time / time(T0)");
    std::vector<double> Ts, times;
    std::string bott_json = "[";
    for (int64_t T : bseqs) {
      const std::vector<float> x = random_input(rng, bb * T * input);
      const std::vector<double> ms = time_runs(1, breps, [&] {
        tape.clear();
        std::optional<NoGradGuard<float>> guard;
        if (inference) guard.emplace(tape);
        Var<float> X = tape.input(x.data(), Shape{bb, T, input});
        Var<float> h = tape.zeros(Shape{bb, bh});
        for (int64_t t = 0; t < T; ++t) h = cell.forward_step(tape, select_time(X, t), h).h;  // sequential!
      });
      const double med = median(ms);
      Ts.push_back(static_cast<double>(T));
      times.push_back(med);
      std::printf("%10lld %11.2f %14.4f %15.2fx\n", static_cast<long long>(T), med, med / static_cast<double>(T),
                  med / times.front());
      bott_json += (bott_json.size() > 1 ? "," : "") + std::string("{\"seq_len\":") + std::to_string(T) +
                   ",\"time_ms\":" + fixed(med, 4) + ",\"ms_per_step\":" + fixed(med / static_cast<double>(T), 5) + "}";
    }
    bott_json += "]";
    // Least-squares line time = a + b·T and its R².
    const double mt = mean(Ts), my = mean(times);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < Ts.size(); ++i) {
      sxy += (Ts[i] - mt) * (times[i] - my);
      sxx += (Ts[i] - mt) * (Ts[i] - mt);
      syy += (times[i] - my) * (times[i] - my);
    }
    const double slope = sxx > 0 ? sxy / sxx : 0, intercept = my - slope * mt;
    const double r2 = sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : 1.0;
    std::printf("Linear fit: time = %.3f ms + %.4f ms x T (R^2 = %.4f): linear in the sequence length.\n", intercept,
                slope, r2);

    examples::JsonLine j;
    j.add("example", std::string("profile"))
        .add("mode", std::string(inference ? "inference" : "record"))
        .add("batch", batch)
        .add("input", input)
        .add("threads", static_cast<int64_t>(blas::threads()))
        .raw("profile", prof_json)
        .add("bottleneck_batch", bb)
        .add("bottleneck_hidden", bh)
        .raw("bottleneck", bott_json)
        .add("ms_per_step", slope)
        .add("intercept_ms", intercept)
        .add("linear_r2", r2)
        .add("blas", blas::describe());
    j.print();
    return 0;
  });
}
