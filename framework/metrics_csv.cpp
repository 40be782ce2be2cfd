#include "framework/metrics_csv.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <sys/stat.h>

#include "framework/error.h"

namespace reel {

// Keeps the header and the rows whose first column (the epoch) is <= last, replacing the file
// atomically.
static void truncate_rows(const std::string& path, int64_t last) {
  std::ifstream in(path);
  if (!in) return;
  std::string header, line, kept;
  if (!std::getline(in, header)) return;
  kept = header + "\n";
  while (std::getline(in, line)) {
    char* end = nullptr;
    const double epoch = std::strtod(line.c_str(), &end);
    if (end != line.c_str() && epoch <= static_cast<double>(last)) kept += line + "\n";
  }
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept;
    out.flush();
    if (!out) throw UsageError("MetricsCsv: cannot rewrite '" + path + "' (writing " + tmp + " failed)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw UsageError("MetricsCsv: cannot replace '" + path + "'");
}

MetricsCsv::MetricsCsv(const std::string& path, bool append, int64_t keep_through_epoch) : path_(path) {
  if (path.empty()) return;
  struct stat st {};
  if (append && keep_through_epoch >= 0 && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
    truncate_rows(path, keep_through_epoch);
  const bool has_rows = append && ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
  out_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!out_) throw UsageError("MetricsCsv: cannot open '" + path + "' for writing");
  header_written_ = has_rows;
}

void MetricsCsv::row(const std::vector<std::pair<std::string, double>>& values) {
  if (!out_.is_open()) return;
  if (keys_.empty())
    for (auto& kv : values) keys_.push_back(kv.first);
  if (values.size() != keys_.size()) throw UsageError("MetricsCsv: row has a different number of columns in '" + path_ + "'");
  for (size_t i = 0; i < values.size(); ++i)  // check the whole row before writing any of it
    if (values[i].first != keys_[i])
      throw UsageError("MetricsCsv: column '" + values[i].first + "' where '" + keys_[i] + "' was expected");
  if (!header_written_) {
    for (size_t i = 0; i < keys_.size(); ++i) out_ << (i ? "," : "") << keys_[i];
    out_ << '\n';
    header_written_ = true;
  }
  char buf[64];
  for (size_t i = 0; i < values.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.10g", values[i].second);
    out_ << (i ? "," : "") << buf;
  }
  out_ << '\n';
  out_.flush();
  if (!out_) throw std::runtime_error("MetricsCsv: cannot write a row to '" + path_ + "' (disk full or not writable?)");
}

}  // namespace reel
