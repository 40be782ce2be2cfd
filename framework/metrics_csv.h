#pragma once
/// \file
/// Per-epoch metrics to CSV: the header comes from the first row's keys; later rows must have the
/// same keys. Each row is flushed, so a crash loses nothing already written.
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace reel {

/// A CSV file of named figures, one row per epoch (see the file description).
class MetricsCsv {
 public:
  /// Empty path: a no-op writer. append = true keeps existing rows (resume); with
  /// keep_through_epoch >= 0 only the rows of epochs up to it (a run resumed from epoch N's
  /// checkpoint drops the rows a killed run wrote after it). Throws UsageError if the file cannot
  /// be opened.
  explicit MetricsCsv(const std::string& path, bool append = false, int64_t keep_through_epoch = -1);
  /// Writes one row (the header first, from the first row's keys) and flushes it. Throws UsageError
  /// if the keys differ from the first row's, std::runtime_error if the row cannot be written.
  void row(const std::vector<std::pair<std::string, double>>& values);
  bool enabled() const { return out_.is_open(); }  ///< whether rows go to a file (false for an empty path)

 private:
  std::string path_;
  std::ofstream out_;
  std::vector<std::string> keys_;
  bool header_written_ = false;
};

}  // namespace reel
