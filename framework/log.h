#pragma once
// Logging and progress for long runs. Library code logs through spdlog; init_logging() points the
// default logger at stderr so a program's stdout carries only its results (the final JSON line).
#include <chrono>
#include <cstdint>
#include <string>

namespace reel {

// stderr, colours on a terminal, "[time] [level] message". Level from REEL_LOG_LEVEL if set.
// Safe to call more than once (and from several threads): later calls reuse the logger named
// "reel" (one a program registered itself is kept, with its sinks) and make it the default again.
void init_logging();

// Progress of one epoch: a line within the epoch on a terminal (rewritten in place, at most a few
// times a second), and an spdlog line at the end with loss, accuracy, throughput and ETA.
class Progress {
 public:
  Progress(std::string what, int64_t total_items, int epoch, int epochs);
  // items done so far in this epoch, running mean loss and accuracy
  void update(int64_t items_done, double loss, double accuracy);
  // Logs the epoch line; returns elapsed seconds.
  double finish(double loss, double accuracy, const std::string& extra = "");
  double items_per_second() const;
  double elapsed() const;

 private:
  std::string what_;
  int64_t total_, done_ = 0;
  int epoch_, epochs_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);  // "1m05s"

}  // namespace reel
