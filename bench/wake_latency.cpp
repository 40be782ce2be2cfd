// wake_latency: how long a thread sleeping on a condition variable (as reel's GEMM pool's workers
// do: they never poll) takes to start after notify_one, on this machine. The caller computes for
// --gap-us between wake-ups (as an RNN step does between its GEMMs), then notifies and polls for
// the worker's start time. Reported: median, 10th and 90th percentile in microseconds, one JSON
// line per gap. A split GEMM block worth less than this latency cannot pay at 2 threads.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "examples/example_common.h"

using Clock = std::chrono::steady_clock;

namespace {

double wake_micros(int gap_us, int rounds, std::vector<double>* out) {
  std::mutex mu;
  std::condition_variable cv;
  bool go = false, quit = false;
  Clock::time_point sent, started;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    std::unique_lock<std::mutex> l(mu);
    for (;;) {
      cv.wait(l, [&] { return go || quit; });
      if (quit) return;
      started = Clock::now();
      go = false;
      done.store(true, std::memory_order_release);
    }
  });
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = Clock::now();
    while (std::chrono::duration<double, std::micro>(Clock::now() - t0).count() < gap_us) {
    }  // the caller's own work
    {
      std::lock_guard<std::mutex> g(mu);
      go = true;
      sent = Clock::now();
    }
    cv.notify_one();
    while (!done.load(std::memory_order_acquire)) {
    }
    done.store(false, std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(mu);
    out->push_back(std::chrono::duration<double, std::micro>(started - sent).count());
  }
  {
    std::lock_guard<std::mutex> g(mu);
    quit = true;
  }
  cv.notify_one();
  worker.join();
  std::sort(out->begin(), out->end());
  return (*out)[out->size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  reel::Cli cli("wake_latency", "the wake-up latency of a thread sleeping on a condition variable (JSON lines)");
  cli.option("gaps", "50,200,2000", "the caller's work between wake-ups, microseconds (comma list)")
      .option("rounds", "2000", "wake-ups per gap")
      .integer_in(10, 1000000);
  return reel::examples::run_main(cli, argc, argv, [&]() -> int {
    const std::vector<int64_t> gaps = cli.integers("gaps", 0, 1000000);
    const int rounds = static_cast<int>(cli.integer("rounds"));
    for (int64_t gap : gaps) {
      std::vector<double> v;
      const double med = wake_micros(static_cast<int>(gap), rounds, &v);
      reel::examples::JsonLine j;
      j.add("bench", std::string("wake_latency")).add("gap_us", gap).add("rounds", static_cast<int64_t>(rounds))
          .add("median_us", med).add("p10_us", v[v.size() / 10]).add("p90_us", v[v.size() * 9 / 10]);
      j.print();
    }
    return 0;
  });
}
