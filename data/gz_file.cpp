#include "data/gz_file.h"

#include <cstdio>

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <system_error>

#include "data/data_error.h"

namespace reel {

GzFile::GzFile(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw_data(path, "no such file");
  if (!fs::is_regular_file(st)) throw_data(path, "expected a regular file");
  file_ = gzopen(path.c_str(), "rb");
  if (file_ == nullptr) throw_data(path, "cannot open for reading");
  gzbuffer(file_, 1u << 17);
}

GzFile::~GzFile() {
  if (file_ != nullptr) gzclose(file_);
}

void GzFile::check_error(int rc) {
  int errnum = Z_OK;
  const char* msg = gzerror(file_, &errnum);
  if (rc < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR))
    throw_data(path_, std::string("read error: ") + (msg != nullptr ? msg : "unknown zlib error"));
}

int64_t GzFile::read(void* buf, int64_t n) {
  auto* out = static_cast<unsigned char*>(buf);
  int64_t total = 0;
  while (total < n) {
    const int64_t chunk = std::min<int64_t>(n - total, INT_MAX / 2);
    const int got = gzread(file_, out + total, static_cast<unsigned>(chunk));
    check_error(got);
    total += got;
    if (got < chunk) break;  // end of data
  }
  return total;
}

bool GzFile::read_line(std::string& line) {
  line.clear();
  char buf[4096];
  bool any = false;
  for (;;) {
    const char* r = gzgets(file_, buf, static_cast<int>(sizeof(buf)));
    if (r == nullptr) {
      check_error(0);
      if (truncated()) throw_data(path_, "unexpected end of gzip stream (file truncated?)");
      break;
    }
    any = true;
    line.append(buf);
    if (line.size() > max_line_) {
      char what[160];
      std::snprintf(what, sizeof what, "a line longer than %zu bytes (the limit: a corrupt or non-text file?)", max_line_);
      throw_data(path_, what);
    }
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      break;
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return any;
}

bool GzFile::truncated() const {
  int errnum = Z_OK;
  gzerror(file_, &errnum);
  return errnum == Z_BUF_ERROR;
}

bool GzFile::is_plain() const { return gzdirect(file_) == 1; }

}  // namespace reel
