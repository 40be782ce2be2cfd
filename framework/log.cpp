#include "framework/log.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace reel {

void init_logging() {
  // Idempotent: a second call (a library and its program both setting up logging, a test suite)
  // reuses the registered "reel" logger instead of failing on spdlog's "already exists".
  static std::mutex m;
  const std::lock_guard<std::mutex> lock(m);
  auto logger = spdlog::get("reel");
  if (!logger) logger = spdlog::stderr_color_mt("reel");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%H:%M:%S] [%^%l%$] %v");
  if (const char* lvl = std::getenv("REEL_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(lvl));
}

std::string format_duration(double s) {
  if (s < 0) s = 0;
  const long total = static_cast<long>(s + 0.5);
  char buf[32];
  if (total >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  else if (total >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  else std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

Progress::Progress(std::string what, int64_t total_items, int epoch, int epochs)
    : what_(std::move(what)), total_(total_items), epoch_(epoch), epochs_(epochs), tty_(isatty(STDERR_FILENO) != 0),
      interval_(10), start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (const char* s = std::getenv("REEL_PROGRESS_SECONDS")) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end != s && v > 0) interval_ = v;
  }
}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::items_per_second() const {
  const double e = elapsed();
  return e > 0 ? static_cast<double>(done_) / e : 0;
}

std::string Progress::line(const Metrics& metrics) const {
  std::string out;
  char buf[96];
  for (const auto& [name, value] : metrics) {
    std::snprintf(buf, sizeof buf, "  %s %.4f", name.c_str(), value);
    out += buf;
  }
  return out;
}

void Progress::update(int64_t items_done, const Metrics& metrics) {
  done_ = items_done;
  const auto now = std::chrono::steady_clock::now();
  const auto wait = tty_ ? std::chrono::duration<double>(0.25) : std::chrono::duration<double>(interval_);
  if (now - last_draw_ < wait) return;
  last_draw_ = now;
  const double rate = items_per_second();
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
  const double pct = 100.0 * static_cast<double>(done_) / static_cast<double>(total_ ? total_ : 1);
  if (tty_) {
    // A progress line rewritten in place: a terminal-only view, not a log record.
    std::fprintf(stderr, "\r  epoch %d/%d  %3.0f%%%s  %.0f %s/s  ETA %s   ", epoch_, epochs_, pct, line(metrics).c_str(),
                 rate, what_.c_str(), format_duration(eta).c_str());
    std::fflush(stderr);
  } else {
    spdlog::info("epoch {}/{}  {:.0f}%{}  {:.0f} {}/s  ETA {}", epoch_, epochs_, pct, line(metrics), rate, what_,
                 format_duration(eta));
  }
}

double Progress::finish(const Metrics& metrics, const std::string& extra) {
  done_ = total_;
  const double e = elapsed();
  if (tty_) std::fprintf(stderr, "\r%100s\r", "");
  const double remaining = e * (epochs_ - epoch_);
  spdlog::info("epoch {}/{}{}  {:.0f} {}/s  {:.1f}s  ETA {}{}", epoch_, epochs_, line(metrics),
               e > 0 ? static_cast<double>(total_) / e : 0.0, what_, e, format_duration(remaining), extra);
  return e;
}

}  // namespace reel
