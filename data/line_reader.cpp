#include "data/line_reader.h"

#include "data/data_error.h"
#include "data/gz_file.h"

namespace reel {

LineReader::LineReader(const std::string& path) : path_(path), file_(std::make_unique<GzFile>(path)) {
  file_->set_max_line(kMaxLine);
}

LineReader::~LineReader() = default;

bool LineReader::next(std::string& line) {
  try {
    if (!file_->read_line(line)) return false;
  } catch (const DataError& e) {
    // GzFile's message is "path: what"; put the number of the line being read after the path.
    std::string what = e.what();
    const std::string prefix = path_ + ": ";
    if (what.compare(0, prefix.size(), prefix) == 0) what.erase(0, prefix.size());
    throw_data(path_, line_ + 1, what);
  }
  ++line_;
  return true;
}

}  // namespace reel
