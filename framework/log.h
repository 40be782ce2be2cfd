#pragma once
/// \file
/// Logging and progress for long runs. Library code logs through spdlog; init_logging() points the
/// default logger at stderr so a program's stdout carries only its results (the final JSON line).
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reel {

/// stderr, colours on a terminal, "[time] [level] message". Level from REEL_LOG_LEVEL if set.
/// Safe to call more than once (and from several threads): later calls reuse the logger named
/// "reel" (one a program registered itself is kept, with its sinks) and make it the default again.
void init_logging();

/// Named figures of a run, in the order given: {{"loss", 0.31}, {"acc", 0.9}}.
using Metrics = std::vector<std::pair<std::string, double>>;

/// Progress of one epoch with any named metrics. On a terminal: one line rewritten in place (at
/// most a few times a second) with percentage, metrics, rate and ETA. Not on a terminal (CI logs,
/// nohup): an spdlog line every `interval` seconds (REEL_PROGRESS_SECONDS, default 10). finish()
/// logs the epoch's line, with the run's ETA.
class Progress {
 public:
  /// Progress of epoch (1-based) of epochs over total_items items; what names the items in the rate
  /// ("sentences" gives "sentences/s").
  Progress(std::string what, int64_t total_items, int epoch, int epochs);
  /// Items done so far in this epoch; redraws or logs when due
  void update(int64_t items_done, const Metrics& metrics = {});
  /// Logs the epoch line; returns elapsed seconds.
  double finish(const Metrics& metrics = {}, const std::string& extra = "");
  double items_per_second() const;  ///< items done per second of elapsed()
  double elapsed() const;  ///< seconds since construction
  /// Seconds between log lines when not on a terminal
  void set_interval(double seconds) { interval_ = seconds; }

 private:
  std::string line(const Metrics& metrics) const;
  std::string what_;
  int64_t total_, done_ = 0;
  int epoch_, epochs_;
  bool tty_;
  double interval_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);  ///< "1m05s"

}  // namespace reel
