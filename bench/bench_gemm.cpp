// bench_gemm: reel::blas::gemm on each backend (OpenBLAS, oneDNN) at the shapes reel's recurrent
// models call it with, 1 and 2 threads; the measurements blas::auto_backend's rule is derived from
// (docs/benchmarks.md, "GEMM backends"). Side "packed": blas::gemm_packed with op(B) packed once
// outside the timing (blas::PackedB, as for a recurrent weight; NN and NT classes only). One JSON
// line per (shape, threads, backend), then a markdown table on stdout (--markdown) with the auto
// rule's pick beside the measured winner.
//
// Shape classes (B = batch, T = steps, n = input, d = hidden, G = gate blocks: rnn 1, lstm 4):
//   rec      NN (B x d)·(d x G·d)       the recurrent product of one step (forward), beta = 1
//   dh       NN (B x G·d)·(G·d x d)     dh_{t-1} = dgates·W_hhᵀ (backward, transposed weight cached)
//   inproj   NN (B·T x n)·(n x G·d)     the input projection of a whole sequence
//   dx       NN (B·T x G·d)·(G·d x n)   the input's gradient
//   dW_seq   TN (d x B·(T-1))·(.. x G·d) W_hh's gradient over the sequence in one product
//   dWx      TN (n x B·T)·(B·T x G·d)   W_xh's gradient
//   dW_step  TN (d x B)·(B x G·d)       W_hh's gradient of one step (large batches)
//   head     NN (B x d)·(d x 10), TN (d x B)·(B x 10), NN (B x 10)·(10 x d): the classifier head
//   nt       NT (B x d)·(d x d)ᵀ        a product with a transposed non-parameter operand
//   rec_b64, rec_b128, dW_step_b128: the per-step products at batch 64 and 128
//   narrow_* NN (B x 256)·(256 x w), NN (B x w)·(w x 256), TN (256 x B)·(B x w), w = 8..64: where a
//            narrow N or K (the heads' 10 classes) stops favouring OpenBLAS
//   split    NN (B x 512)·(512 x w), w = 128..2048: where splitting a call over reel's pool pays
// Timing: each measurement repeats the call until it has taken --min-ms, per-call time = total /
// calls; --rounds rounds, backends alternating first; the best round is reported (the machine is
// shared: the best is the least disturbed), the median beside it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/fma_peak.h"
#include "examples/example_common.h"
#include "framework/blas.h"
#include "framework/blas_detail.h"
#include "framework/blas_packed.h"
#include "framework/rng.h"

#if REEL_BENCH_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

using namespace reel;
using reel::examples::JsonLine;

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  std::string cls;
  bool ta, tb;
  int64_t m, n, k;
};

std::vector<Case> default_cases(bool quick) {
  std::vector<Case> cs;
  const int64_t B = 32, T = 100, n_in = 100;
  const std::vector<int64_t> hidden = quick ? std::vector<int64_t>{128, 512} : std::vector<int64_t>{128, 256, 512, 1024};
  for (int64_t d : hidden)
    for (int64_t G : {1, 4}) {
      if (G == 4 && d > 512) continue;
      const std::string g = G == 1 ? "" : "_lstm";
      cs.push_back({"rec" + g, false, false, B, G * d, d});
      if (G == 4) cs.push_back({"dh" + g, false, false, B, d, G * d});
      cs.push_back({"inproj" + g, false, false, B * T, G * d, n_in});
      cs.push_back({"dx" + g, false, false, B * T, n_in, G * d});
      cs.push_back({"dW_seq" + g, true, false, d, G * d, B * (T - 1)});
      cs.push_back({"dWx" + g, true, false, n_in, G * d, B * T});
      cs.push_back({"dW_step" + g, true, false, d, G * d, B});
    }
  for (int64_t d : hidden) {
    cs.push_back({"head", false, false, B, 10, d});
    cs.push_back({"head_dW", true, false, d, 10, B});
    cs.push_back({"head_dx", false, false, B, d, 10});
    cs.push_back({"nt", false, true, B, d, d});
  }
  // Where a narrow N or K stops favouring OpenBLAS (the heads are 10 wide): B x w·(w x 256)...
  for (int64_t w : {8, 16, 24, 32, 48, 64}) {
    cs.push_back({"narrow_n", false, false, B, w, 256});
    cs.push_back({"narrow_k", false, false, B, 256, w});
    cs.push_back({"narrow_n_tn", true, false, 256, w, B});
  }
  // Where splitting a call over reel's pool starts to pay (2 threads): B x 512 by 512 x w
  for (int64_t w : {128, 256, 512, 768, 1024, 1536, 2048})
    cs.push_back({"split", false, false, B, w, 512});
  // batch 1 and batch 128 at hidden 256
  cs.push_back({"rec_b1", false, false, 1, 256, 256});
  // larger batches: the per-step products of batch 64 and 128, hidden 128..512
  for (int64_t d : {128, 256, 512}) {
    cs.push_back({"rec_b64", false, false, 64, d, d});
    cs.push_back({"rec_b128", false, false, 128, d, d});
    cs.push_back({"dW_step_b128", true, false, d, d, 128});
  }
  cs.push_back({"tt", true, true, 256, 256, 32});
  return cs;
}

struct Operands {
  std::vector<float> a, b, c;
};

Operands make_operands(const Case& cs, Rng& rng) {
  Operands o;
  o.a.resize(static_cast<size_t>(cs.m * cs.k));
  o.b.resize(static_cast<size_t>(cs.k * cs.n));
  o.c.resize(static_cast<size_t>(cs.m * cs.n));
  for (float& v : o.a) v = static_cast<float>(rng.normal()) * 0.1f;
  for (float& v : o.b) v = static_cast<float>(rng.normal()) * 0.1f;
  for (float& v : o.c) v = static_cast<float>(rng.normal()) * 0.1f;
  return o;
}

// Per-call microseconds of fn, repeated until min_ms have passed.
template <class F>
double per_call_us(F&& fn, double min_ms) {
  int64_t calls = 0;
  const auto t0 = Clock::now();
  double ms = 0;
  do {
    fn();
    ++calls;
    ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  } while (ms < min_ms);
  return ms * 1000.0 / static_cast<double>(calls);
}

using reel::bench::split;

std::string gfmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("bench_gemm", "Times reel::blas::gemm on OpenBLAS and oneDNN at the shapes reel's RNNs use; one JSON line "
                        "per (shape, threads, backend), and a markdown table with --markdown.");
  cli.option("thread-counts", "1,2", "comma list of thread counts (blas::set_threads)")
      .option("rounds", "5", "rounds per measurement (backends alternate first); the best is reported")
      .option("min-ms", "20", "each measurement repeats the call for at least this long")
      .option("classes", "", "only these shape classes (comma list; default: all)")
      .option("backends", "", "only these sides (comma list of openblas, onednn, onednn_omp; default: all built)")
      .flag("quick", "hidden 128 and 512 only")
      .flag("markdown", "print the table as markdown after the JSON lines")
      .flag("omp-direct", "also time dnnl_sgemm called directly on OpenMP's own threads (libgomp's pool)")
      .option("seed", "1", "random seed");
  return examples::run_main(cli, argc, argv, [&]() -> int {
    std::vector<int> thread_counts;
    for (const std::string& t : split(cli.str("thread-counts"))) thread_counts.push_back(std::stoi(t));
    const int rounds = static_cast<int>(cli.integer("rounds"));
    const double min_ms = cli.number("min-ms");
    const bool omp_direct = cli.on("omp-direct");
#if !REEL_BENCH_ONEDNN
    if (omp_direct) throw UsageError("bench_gemm: --omp-direct needs a build with oneDNN");
#endif
    std::vector<Case> cases = default_cases(cli.on("quick"));
    if (!cli.str("classes").empty()) {
      const std::vector<std::string> keep = split(cli.str("classes"));
      cases.erase(std::remove_if(cases.begin(), cases.end(),
                                 [&](const Case& c) { return std::find(keep.begin(), keep.end(), c.cls) == keep.end(); }),
                  cases.end());
    }
    std::vector<std::string> sides = {"openblas"};
    if (blas::onednn_available()) sides.push_back("onednn");
    if (blas::onednn_available()) sides.push_back("packed");
    if (omp_direct) sides.push_back("onednn_omp");
    if (!cli.str("backends").empty()) {
      const std::vector<std::string> keep = split(cli.str("backends"));
      for (const std::string& k : keep)
        if (std::find(sides.begin(), sides.end(), k) == sides.end())
          throw UsageError("bench_gemm: backend '" + k + "' is not available here (openblas, onednn, packed; with "
                           "--omp-direct: onednn_omp)");
      sides = keep;
    }

    const bench::FmaPeak peak = bench::measure_fma_peak();
    JsonLine pl;
    pl.add("bench", std::string("gemm")).add("metric", std::string("fma_peak")).add("gflops", peak.gflops())
        .add("avx512_gflops", peak.avx512_gflops).add("avx2_gflops", peak.avx2_gflops);
    pl.print();

    Rng rng(static_cast<uint64_t>(cli.integer("seed")));
    std::vector<Operands> ops;
    for (const Case& c : cases) ops.push_back(make_operands(c, rng));
    // (case, threads, side) -> per-call us of every round
    std::map<std::tuple<size_t, int, std::string>, std::vector<double>> us;
    std::map<std::pair<size_t, int>, std::pair<int64_t, int64_t>> blocks;  // oneDNN: worker blocks, stolen
    for (int threads : thread_counts) {
      blas::set_threads(threads);
      for (int r = 0; r < rounds; ++r)
        for (size_t i = 0; i < cases.size(); ++i) {
          const Case& c = cases[i];
          Operands& o = ops[i];
          const int64_t lda = c.ta ? c.m : c.k, ldb = c.tb ? c.k : c.n;
          for (size_t s = 0; s < sides.size(); ++s) {
            const std::string& side = sides[(s + static_cast<size_t>(r) + i) % sides.size()];
            double t = 0;
            if (side == "onednn_omp") {
#if REEL_BENCH_ONEDNN
              omp_set_num_threads(threads);
              t = per_call_us([&] { dnnl_sgemm(c.ta ? 'T' : 'N', c.tb ? 'T' : 'N', c.m, c.n, c.k, 1.0f, o.a.data(), lda,
                                               o.b.data(), ldb, 1.0f, o.c.data(), c.n); }, min_ms);
              omp_set_num_threads(1);
#endif
            } else if (side == "packed") {
              if (c.ta) continue;  // products of a packed right operand only
              blas::set_mode(blas::Mode::onednn);
              blas::PackedB pb;
              pb.pack(c.tb, c.k, c.n, o.b.data(), ldb);
              t = per_call_us([&] { blas::gemm_packed(c.m, o.a.data(), lda, pb, 1.0f, o.c.data(), c.n); }, min_ms);
            } else {
              blas::set_mode(side == "onednn" ? blas::Mode::onednn : blas::Mode::openblas);
              const int64_t split0 = blas::detail::onednn_blocks_split(), stolen0 = blas::detail::onednn_blocks_stolen();
              t = per_call_us([&] { blas::gemm(c.ta, c.tb, c.m, c.n, c.k, 1.0f, o.a.data(), lda, o.b.data(), ldb, 1.0f,
                                               o.c.data(), c.n); }, min_ms);
              blocks[{i, threads}].first += blas::detail::onednn_blocks_split() - split0;
              blocks[{i, threads}].second += blas::detail::onednn_blocks_stolen() - stolen0;
            }
            us[{i, threads, side}].push_back(t);
          }
          // Keep C bounded: beta = 1 accumulates.
          std::fill(o.c.begin(), o.c.end(), 0.0f);
        }
    }

    struct Row {
      size_t i;
      int threads;
      std::map<std::string, double> best_gflops, median_gflops;
    };
    std::vector<Row> rows;
    for (int threads : thread_counts)
      for (size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        const double flops = 2.0 * static_cast<double>(c.m) * static_cast<double>(c.n) * static_cast<double>(c.k);
        Row row{i, threads, {}, {}};
        const std::string pick = blas::name(blas::auto_backend(c.ta, c.tb, c.m, c.n, c.k, threads));
        for (const std::string& side : sides) {
          std::vector<double> v = us[{i, threads, side}];
          if (v.empty()) continue;  // not measured (packed: a transposed left operand)
          std::sort(v.begin(), v.end());
          const double best = v.front(), med = v[v.size() / 2];
          row.best_gflops[side] = flops / (best * 1e3);
          row.median_gflops[side] = flops / (med * 1e3);
          JsonLine j;
          j.add("bench", std::string("gemm")).add("class", c.cls)
              .add("op", std::string(c.ta ? "T" : "N") + (c.tb ? "T" : "N")).add("m", c.m).add("n", c.n).add("k", c.k)
              .add("threads", static_cast<int64_t>(threads)).add("backend", side)
              .add("us_best", best).add("us_median", med).add("gflops", flops / (best * 1e3))
              .add("gflops_median", flops / (med * 1e3)).add("peak_pct", 100.0 * flops / (best * 1e3) / peak.gflops())
              .add("auto", pick);
          if (side == "onednn") {
            const auto& bl = blocks[{i, threads}];
            j.add("worker_blocks", bl.first).add("stolen_blocks", bl.second);
          }
          j.print();
        }
        rows.push_back(row);
      }

    if (cli.on("markdown")) {
      const std::map<std::string, std::string> title = {
          {"openblas", "OpenBLAS"}, {"onednn", "oneDNN"}, {"packed", "oneDNN packed B"}, {"onednn_omp", "oneDNN on libgomp"}};
      const bool both = std::count(sides.begin(), sides.end(), "openblas") && std::count(sides.begin(), sides.end(), "onednn");
      std::printf("\nFMA peak (1 thread): %.0f GFLOP/s (AVX-512 %.0f, AVX2 %.0f). GFLOP/s: best round (median round).\n\n",
                  peak.gflops(), peak.avx512_gflops, peak.avx2_gflops);
      std::string head = "| class | op | m | n | k | threads |", rule = "|---|---|---:|---:|---:|---:|";
      for (const std::string& side : sides) head += " " + title.at(side) + " GFLOP/s |", rule += "---:|";
      if (both) head += " oneDNN / OpenBLAS | faster |", rule += "---:|---|";
      std::printf("%s auto picks |\n%s---|\n", head.c_str(), rule.c_str());
      for (const Row& row : rows) {
        const Case& c = cases[row.i];
        std::printf("| %s | %s%s | %lld | %lld | %lld | %d |", c.cls.c_str(), c.ta ? "T" : "N", c.tb ? "T" : "N",
                    static_cast<long long>(c.m), static_cast<long long>(c.n), static_cast<long long>(c.k), row.threads);
        for (const std::string& side : sides) {
          if (!row.best_gflops.count(side)) {
            std::printf(" — |");
            continue;
          }
          std::printf(" %s (%s) |", gfmt(row.best_gflops.at(side)).c_str(), gfmt(row.median_gflops.at(side)).c_str());
        }
        if (both) {
          const double ob = row.best_gflops.at("openblas"), dn = row.best_gflops.at("onednn");
          std::printf(" %.2f | %s |", dn / ob, dn > ob ? "oneDNN" : "OpenBLAS");
        }
        std::printf(" %s |\n", blas::name(blas::auto_backend(c.ta, c.tb, c.m, c.n, c.k, row.threads)));
      }
    }
    return 0;
  });
}
