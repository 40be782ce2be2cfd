#include "framework/metrics_csv.h"

#include <cstdio>
#include <sys/stat.h>

#include "framework/error.h"

namespace reel {

MetricsCsv::MetricsCsv(const std::string& path, bool append) : path_(path) {
  if (path.empty()) return;
  struct stat st {};
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
}

}  // namespace reel
