#pragma once
// Timing and JSON helpers shared by the bench programs (bench_rnn, onednn_rnn_bench): the same
// warm-up, repetition and budget rule on every side, so run_benchmarks.py compares like with like.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace reel::bench {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median = 0, min = 0, max = 0;
  std::vector<double> samples;  // in run order
};

inline Timing summarize(const std::vector<double>& samples) {
  std::vector<double> ms = samples;
  std::sort(ms.begin(), ms.end());
  Timing t;
  t.samples = samples;
  const size_t n = ms.size();
  t.median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  t.min = ms.front();
  t.max = ms.back();
  return t;
}

inline double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// warmup untimed runs, then up to reps timed ones. A budget (max_s > 0) bounds pathological cases:
// warm-up stops once it has used max_s; timing stops once it has used max_s and has 3 samples, or
// has used 3·max_s and has 1. bench/torch_rnn_bench.py applies the same rule.
inline Timing time_it(int warmup, int reps, double max_s, const std::function<void()>& fn) {
  const double budget_ms = max_s * 1000.0;
  const auto w0 = Clock::now();
  for (int i = 0; i < warmup; ++i) {
    fn();
    if (budget_ms > 0 && ms_since(w0) > budget_ms) break;
  }
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(reps));
  double total = 0;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    fn();
    ms.push_back(ms_since(t0));
    total += ms.back();
    if (budget_ms > 0 && ((total > budget_ms && ms.size() >= 3) || total > 3 * budget_ms)) break;
  }
  return summarize(ms);
}

inline std::string json_array(const std::vector<double>& v) {
  std::string s = "[";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.4f", i ? "," : "", v[i]);
    s += buf;
  }
  return s + "]";
}

inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

inline std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') { o += "\\n"; continue; }
    o += c;
  }
  return o;
}

}  // namespace reel::bench
