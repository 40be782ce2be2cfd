// onednn_rnn_bench: times oneDNN's own RNN primitives at one shape — the vanilla RNN (tanh) and the
// LSTM, one layer, left to right, h0 = c0 = 0 — and prints one JSON line per metric in bench_rnn's
// format ("side": "onednn"), so bench/run_benchmarks.py puts it beside reel and PyTorch.
//
// Metrics (--metric all, or a comma list):
//   forward           prop_kind::forward_inference on the whole sequence (dst_layer: every h_t).
//   forward_backward  prop_kind::forward_training (with its workspace) + backward, the loss being
//                     sum(every h_t): diff_dst_layer = 1. Backward computes the gradients of the
//                     weights and bias and of the input (diff_src_layer: oneDNN cannot skip it;
//                     reel's forward_backward does not compute the input's gradient). The diff
//                     weights are zeroed in every iteration (a training step's zero_grad).
// oneDNN's best case: src/dst in its time-major layout (tnc), weights reordered ONCE, outside the
// timing, into the layouts the primitives choose (format any); diff weights stay in theirs (a
// training loop would reorder after every update). Threads: omp_set_num_threads(--threads) on
// Debian's OpenMP runtime, denormals flushed in every OpenMP thread; the OpenMP wait policy is
// the environment's (run_benchmarks.py says which it used). Timing: bench/bench_util.h, as
// bench_rnn (--warmup untimed, --reps timed, median/min/max, the same --max-seconds budget).
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_util.h"
#include "examples/example_common.h"
#include "framework/cli.h"
#include "framework/error.h"

using reel::Cli;
using reel::UsageError;
using namespace reel::bench;
using reel::examples::JsonLine;
using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

memory filled(const memory::desc& md, const dnnl::engine& eng, std::mt19937& gen, float scale) {
  memory m(md, eng);
  float* p = static_cast<float*>(m.get_data_handle());
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (size_t i = 0; i < md.get_size() / sizeof(float); ++i) p[i] = scale * nd(gen);
  return m;
}

memory zeros(const memory::desc& md, const dnnl::engine& eng) {
  memory m(md, eng);
  std::memset(m.get_data_handle(), 0, md.get_size());
  return m;
}

// user (ldigo) weights in the layout a primitive wants: one reorder, outside any timing.
memory in_layout(memory user, const memory::desc& want, const dnnl::engine& eng, dnnl::stream& s) {
  if (user.get_desc() == want) return user;
  memory m(want, eng);
  dnnl::reorder(user, m).execute(s, user, m);
  s.wait();
  return m;
}

std::string isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    default: return std::to_string(static_cast<int>(isa));
  }
}

std::string kernel_name(int threads) {
  const dnnl_version_t* v = dnnl_version();
  std::string rt = v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB" : "other";
  const char* wp = std::getenv("OMP_WAIT_POLICY");
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         " RNN primitive (CPU runtime " + rt + ", " + std::to_string(threads) + " threads, OMP_WAIT_POLICY=" +
         (wp && *wp ? wp : "default") + ", isa " + isa_name(dnnl_get_effective_cpu_isa()) + ")";
}

template <class T>
struct Tag {
  using type = T;
};

}  // namespace

int main(int argc, char** argv) {
  Cli cli("onednn_rnn_bench", "Times oneDNN's vanilla RNN (tanh) or LSTM primitive (forward inference; forward "
                              "training + backward with the input gradient) at one shape; one JSON line per metric, "
                              "as bench_rnn prints them.");
  cli.option("cell", "rnn", "rnn (vanilla, tanh) or lstm")
      .option("batch", "32", "batch size B")
      .option("seq", "100", "sequence length T")
      .option("hidden", "256", "hidden size d")
      .option("input", "100", "input size n")
      .option("threads", "1", "OpenMP threads oneDNN runs on")
      .option("reps", "10", "timed repetitions per metric")
      .option("warmup", "2", "untimed warm-up repetitions per metric")
      .option("max-seconds", "0", "per-metric time budget in s (0: none); reps then stop early, >= 3 kept")
      .option("metric", "all", "all, or a comma list of forward,forward_backward")
      .option("seed", "1", "random seed");
  try {
    if (!cli.parse(argc, argv)) return 0;
    const int64_t B = cli.integer("batch"), Tn = cli.integer("seq"), d = cli.integer("hidden"), n = cli.integer("input");
    const int reps = static_cast<int>(cli.integer("reps")), warmup = static_cast<int>(cli.integer("warmup"));
    const int threads = static_cast<int>(cli.integer("threads"));
    const double max_s = cli.number("max-seconds");
    const std::string cell = cli.str("cell");
    if (cell != "rnn" && cell != "lstm") throw UsageError("onednn_rnn_bench: --cell must be rnn or lstm, got '" + cell + "'");
    if (B < 1 || Tn < 1 || d < 1 || n < 1 || reps < 1 || warmup < 0 || threads < 1)
      throw UsageError("onednn_rnn_bench: batch, seq, hidden, input, reps, threads must be >= 1, warmup >= 0");
    std::vector<std::string> metrics = split(cli.str("metric"));
    if (metrics.size() == 1 && metrics[0] == "all") metrics = {"forward", "forward_backward"};
    for (const auto& m : metrics)
      if (m != "forward" && m != "forward_backward") throw UsageError("onednn_rnn_bench: unknown metric '" + m + "'");
    const bool lstm = cell == "lstm";
    const int64_t G = lstm ? 4 : 1;

    omp_set_num_threads(threads);
#pragma omp parallel num_threads(threads)
    {
#if defined(__SSE__)
      _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ | DAZ in every OpenMP thread
#endif
    }

    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    std::mt19937 gen(static_cast<unsigned>(cli.integer("seed")));
    const float wscale = 1.0f / std::sqrt(static_cast<float>(d));  // PyTorch's init range, as a normal's sd

    const memory::desc src_md({Tn, B, n}, dt::f32, tag::tnc), dst_md({Tn, B, d}, dt::f32, tag::tnc);
    const memory::desc wl_user({1, 1, n, G, d}, dt::f32, tag::ldigo), wi_user({1, 1, d, G, d}, dt::f32, tag::ldigo);
    const memory::desc bias_md({1, 1, G, d}, dt::f32, tag::ldgo);
    const memory::desc wl_any({1, 1, n, G, d}, dt::f32, tag::any), wi_any({1, 1, d, G, d}, dt::f32, tag::any);
    const memory::desc none;  // h0 = c0 = 0, final states not asked for

    memory src = filled(src_md, eng, gen, 1.0f), dst(dst_md, eng);
    memory wl = filled(wl_user, eng, gen, wscale), wi = filled(wi_user, eng, gen, wscale);
    memory bias = filled(bias_md, eng, gen, wscale);
    memory diff_dst(dst_md, eng);
    {
      float* p = static_cast<float*>(diff_dst.get_data_handle());
      for (size_t i = 0; i < dst_md.get_size() / sizeof(float); ++i) p[i] = 1.0f;  // d sum(h) / dh
    }
    volatile float sink = 0;

    // Useful forward FLOPs, as bench_rnn counts them; fwd+bwd here also computes the input's gradient.
    const double fwd_flops = 2.0 * static_cast<double>(B) * static_cast<double>(Tn) * static_cast<double>(G) *
                             (static_cast<double>(n) * static_cast<double>(d) + static_cast<double>(d) * static_cast<double>(d));
    const std::string kernel = json_escape(kernel_name(threads));
    auto line = [&](const std::string& metric) {
      JsonLine j;
      j.add("side", std::string("onednn")).add("cell", cell).add("metric", metric).add("batch", B).add("seq_len", Tn)
          .add("hidden", d).add("input", n).add("threads", static_cast<int64_t>(threads))
          .add("reps", static_cast<int64_t>(reps)).add("warmup", static_cast<int64_t>(warmup));
      return j;
    };
    auto report = [&](const std::string& metric, const Timing& t, double flops, double h1_err = -1) {
      JsonLine j = line(metric);
      j.add("median_ms", t.median).add("min_ms", t.min).add("max_ms", t.max)
          .add("reps_done", static_cast<int64_t>(t.samples.size())).raw("samples_ms", json_array(t.samples));
      j.add("gflops", flops / (t.median * 1e6));
      if (h1_err >= 0) j.add("h1_max_abs_err", h1_err);
      j.add("kernel", kernel);
      j.print();
    };
    // The primitive computes what reel's cells do: h_1 of every sequence from the user weights by
    // hand (h0 = c0 = 0; oneDNN's LSTM gate order i, f, c~, o), against dst_layer's first step.
    auto h1_error = [&]() {
      const float* x = static_cast<const float*>(src.get_data_handle());
      const float* w = static_cast<const float*>(wl.get_data_handle());  // ldigo: [n][G][d]
      const float* bb = static_cast<const float*>(bias.get_data_handle());  // ldgo: [G][d]
      const float* h = static_cast<const float*>(dst.get_data_handle());  // tnc: step 0 first
      double worst = 0;
      for (int64_t bi = 0; bi < B; ++bi)
        for (int64_t o = 0; o < d; ++o) {
          double z[4] = {0, 0, 0, 0};
          for (int64_t g = 0; g < G; ++g) {
            z[g] = bb[g * d + o];
            for (int64_t i = 0; i < n; ++i) z[g] += double(x[bi * n + i]) * w[(i * G + g) * d + o];
          }
          double want;
          if (lstm) {
            auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
            const double c1 = sig(z[0]) * std::tanh(z[2]);  // f·c0 = 0
            want = sig(z[3]) * std::tanh(c1);
          } else {
            want = std::tanh(z[0]);
          }
          worst = std::max(worst, std::abs(want - double(h[bi * d + o])));
        }
      return worst;
    };

    // The primitive descriptors of one cell; everything after them is the same for both cells.
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    auto run = [&](const auto& inference_pd, const auto& training_pd, const auto& backward_pd, auto fwd_tag, auto bwd_tag) {
      using Fwd = typename decltype(fwd_tag)::type;
      using Bwd = typename decltype(bwd_tag)::type;
      for (const std::string& m : metrics) {
        if (m == "forward") {
          const auto& pd = inference_pd;
          const memory wl_p = in_layout(wl, pd.weights_layer_desc(), eng, s);
          const memory wi_p = in_layout(wi, pd.weights_iter_desc(), eng, s);
          Fwd prim(pd);
          std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, src}, {DNNL_ARG_WEIGHTS_LAYER, wl_p},
                                                  {DNNL_ARG_WEIGHTS_ITER, wi_p}, {DNNL_ARG_BIAS, bias},
                                                  {DNNL_ARG_DST_LAYER, dst}};
          const Timing t = time_it(warmup, reps, max_s, [&] {
            prim.execute(s, args);
            s.wait();
            sink = static_cast<float*>(dst.get_data_handle())[0];
          });
          report(m, t, fwd_flops, h1_error());
        } else {
          const auto& fpd = training_pd;
          const auto& bpd = backward_pd;
          Fwd fwd(fpd);
          Bwd bwd(bpd);
          const memory wl_f = in_layout(wl, fpd.weights_layer_desc(), eng, s);
          const memory wi_f = in_layout(wi, fpd.weights_iter_desc(), eng, s);
          const memory wl_b = in_layout(wl, bpd.weights_layer_desc(), eng, s);
          const memory wi_b = in_layout(wi, bpd.weights_iter_desc(), eng, s);
          memory ws(fpd.workspace_desc(), eng);
          memory diff_src(src_md, eng);
          memory dwl = zeros(bpd.diff_weights_layer_desc(), eng);
          memory dwi = zeros(bpd.diff_weights_iter_desc(), eng);
          memory dbias = zeros(bpd.diff_bias_desc(), eng);
          std::unordered_map<int, memory> fargs = {{DNNL_ARG_SRC_LAYER, src}, {DNNL_ARG_WEIGHTS_LAYER, wl_f},
                                                   {DNNL_ARG_WEIGHTS_ITER, wi_f}, {DNNL_ARG_BIAS, bias},
                                                   {DNNL_ARG_DST_LAYER, dst}, {DNNL_ARG_WORKSPACE, ws}};
          std::unordered_map<int, memory> bargs = {
              {DNNL_ARG_SRC_LAYER, src},         {DNNL_ARG_WEIGHTS_LAYER, wl_b},      {DNNL_ARG_WEIGHTS_ITER, wi_b},
              {DNNL_ARG_BIAS, bias},             {DNNL_ARG_DST_LAYER, dst},           {DNNL_ARG_DIFF_DST_LAYER, diff_dst},
              {DNNL_ARG_WORKSPACE, ws},          {DNNL_ARG_DIFF_SRC_LAYER, diff_src}, {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwl},
              {DNNL_ARG_DIFF_WEIGHTS_ITER, dwi}, {DNNL_ARG_DIFF_BIAS, dbias}};
          const Timing t = time_it(warmup, reps, max_s, [&] {
            std::memset(dwl.get_data_handle(), 0, dwl.get_desc().get_size());
            std::memset(dwi.get_data_handle(), 0, dwi.get_desc().get_size());
            std::memset(dbias.get_data_handle(), 0, dbias.get_desc().get_size());
            fwd.execute(s, fargs);
            bwd.execute(s, bargs);
            s.wait();
            sink = static_cast<float*>(diff_src.get_data_handle())[0];
          });
          report(m, t, 3.0 * fwd_flops);
        }
      }
    };
    if (lstm) {
      using F = dnnl::lstm_forward;
      using Bk = dnnl::lstm_backward;
      const F::primitive_desc inf(F::desc(dnnl::prop_kind::forward_inference, dir, src_md, none, none, wl_any, wi_any,
                                          bias_md, dst_md, none, none), eng);
      const F::primitive_desc tr(F::desc(dnnl::prop_kind::forward_training, dir, src_md, none, none, wl_any, wi_any,
                                         bias_md, dst_md, none, none), eng);
      const Bk::primitive_desc bw(Bk::desc(dnnl::prop_kind::backward, dir, src_md, none, none, wl_any, wi_any, bias_md,
                                           dst_md, none, none, src_md, none, none, wl_any, wi_any, bias_md, dst_md, none,
                                           none), eng, tr);
      run(inf, tr, bw, Tag<F>{}, Tag<Bk>{});
    } else {
      using F = dnnl::vanilla_rnn_forward;
      using Bk = dnnl::vanilla_rnn_backward;
      const auto act = dnnl::algorithm::eltwise_tanh;
      const F::primitive_desc inf(F::desc(dnnl::prop_kind::forward_inference, act, dir, src_md, none, wl_any, wi_any,
                                          bias_md, dst_md, none), eng);
      const F::primitive_desc tr(F::desc(dnnl::prop_kind::forward_training, act, dir, src_md, none, wl_any, wi_any,
                                         bias_md, dst_md, none), eng);
      const Bk::primitive_desc bw(Bk::desc(dnnl::prop_kind::backward, act, dir, src_md, none, wl_any, wi_any, bias_md,
                                           dst_md, none, src_md, none, wl_any, wi_any, bias_md, dst_md, none), eng, tr);
      run(inf, tr, bw, Tag<F>{}, Tag<Bk>{});
    }
    (void)sink;
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
