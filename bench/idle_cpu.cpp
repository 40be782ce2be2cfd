// idle_cpu: how much CPU a GEMM backend's worker threads burn while the program does NOT compute,
// at 2 threads by default: the process's CPU time (all threads, utime + stime of /proc/self/stat)
//   burst  200 GEMMs back to back (their own cost, the baseline)
//   idle   over a 1 s sleep right after such a burst
//   gaps   over 200 x (one GEMM + a 2 ms sleep), minus the burst's CPU: what the workers burn
//          between calls (an RNN step does its elementwise work between GEMMs; another program
//          sharing the cores wants them then)
// Sides: reel_onednn (reel's pool), reel_openblas (OpenBLAS's pthreads pool), and, in a build with
// oneDNN, dnnl_omp: dnnl_sgemm on libgomp's own threads, as oneDNN runs without reel. The shape
// is an LSTM step at hidden 512, (32 x 512)·(512 x 2048), which reel splits at 2 threads. One JSON
// line per run; run each side in a fresh process (the OpenMP and OpenBLAS environment variables
// are read when those libraries load): see docs/benchmarks.md for the table.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "examples/example_common.h"
#include "framework/blas.h"

#if REEL_BENCH_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

using namespace reel;
using reel::examples::JsonLine;

namespace {

double cpu_seconds() {
  std::ifstream f("/proc/self/stat");
  std::string s;
  std::getline(f, s);
  std::istringstream is(s.substr(s.rfind(')') + 2));
  std::string tok;
  for (int i = 3; i <= 13; ++i) is >> tok;  // fields 3..13, then utime (14) and stime (15)
  long ut = 0, st = 0;
  is >> ut >> st;
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double wall_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("idle_cpu", "CPU time a GEMM backend's workers burn between and after calls (one JSON line).");
  cli.option("side", "reel_onednn", "reel_onednn, reel_openblas or dnnl_omp (oneDNN on libgomp's threads)")
      .option("threads", "2", "threads (blas::set_threads; omp_set_num_threads for dnnl_omp)")
      .flag("setenv-passive", "setenv(OMP_WAIT_POLICY=PASSIVE) at the start of main (too late for libgomp)");
  return examples::run_main(cli, argc, argv, [&]() -> int {
    const std::string side = cli.str("side");
    const int threads = static_cast<int>(cli.integer("threads"));
    if (cli.on("setenv-passive")) setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    const int64_t m = 32, n = 2048, k = 512;
    std::vector<float> a(static_cast<size_t>(m * k), 0.01f), b(static_cast<size_t>(k * n), 0.01f),
        c(static_cast<size_t>(m * n));
    std::function<void()> gemm;
    if (side == "dnnl_omp") {
#if REEL_BENCH_ONEDNN
      omp_set_num_threads(threads);
      gemm = [&] { dnnl_sgemm('N', 'N', m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n); };
#else
      throw UsageError("idle_cpu: --side dnnl_omp needs a build with oneDNN");
#endif
    } else if (side == "reel_onednn" || side == "reel_openblas") {
      blas::set_mode(side == "reel_onednn" ? blas::Mode::onednn : blas::Mode::openblas);
      gemm = [&] { blas::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n); };
    } else {
      throw UsageError("idle_cpu: --side must be reel_onednn, reel_openblas or dnnl_omp, got '" + side + "'");
    }
    for (int i = 0; i < 200; ++i) gemm();  // warm: threads started, kernels generated

    double c0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) gemm();
    const double burst_wall = wall_since(t0), burst_cpu = cpu_seconds() - c0;

    c0 = cpu_seconds();
    usleep(1000000);
    const double idle_cpu = cpu_seconds() - c0;

    c0 = cpu_seconds();
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) {
      gemm();
      usleep(2000);
    }
    const double gaps_wall = wall_since(t0), gaps_cpu = cpu_seconds() - c0;

    const char* wp = std::getenv("OMP_WAIT_POLICY");
    const char* ot = std::getenv("OPENBLAS_THREAD_TIMEOUT");
    JsonLine j;
    j.add("bench", std::string("idle_cpu")).add("side", side).add("threads", static_cast<int64_t>(threads))
        .add("omp_wait_policy", std::string(wp ? wp : "")).add("openblas_thread_timeout", std::string(ot ? ot : ""))
        .add("setenv_passive", static_cast<int64_t>(cli.on("setenv-passive")))
        .add("burst_wall_s", burst_wall).add("burst_cpu_s", burst_cpu).add("idle_1s_cpu_s", idle_cpu)
        .add("gaps_wall_s", gaps_wall).add("gaps_cpu_s", gaps_cpu).add("gaps_extra_cpu_s", gaps_cpu - burst_cpu);
    j.print();
    return 0;
  });
}
