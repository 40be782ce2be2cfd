#pragma once
/// \file
/// Per-epoch metrics to CSV: the header comes from the first row's keys; later rows must have the
/// same keys. Each row is flushed, so a crash loses nothing already written.
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace reel {

class MetricsCsv {
 public:
  /// Empty path: a no-op writer. append = true keeps existing rows (resume).
  explicit MetricsCsv(const std::string& path, bool append = false);
  void row(const std::vector<std::pair<std::string, double>>& values);
  bool enabled() const { return out_.is_open(); }

 private:
  std::string path_;
  std::ofstream out_;
  std::vector<std::string> keys_;
  bool header_written_ = false;
};

}  // namespace reel
