#pragma once
// Per-epoch metrics to CSV: the header comes from the first row's keys; later rows must have the
// same keys. Each row is flushed, so a crash loses nothing already written.
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace reel {

class MetricsCsv {
 public:
  // Empty path: a no-op writer. append = true keeps existing rows (resume); with
  // keep_through_epoch >= 0 only the rows of epochs up to it (a run resumed from epoch N's
  // checkpoint drops the rows a killed run wrote after it). A row that cannot be written throws.
  explicit MetricsCsv(const std::string& path, bool append = false, int64_t keep_through_epoch = -1);
  void row(const std::vector<std::pair<std::string, double>>& values);
  bool enabled() const { return out_.is_open(); }

 private:
  std::string path_;
  std::ofstream out_;
  std::vector<std::string> keys_;
  bool header_written_ = false;
};

}  // namespace reel
