#pragma once
/// \file
/// A read-only file opened through zlib: gzip-compressed files are decompressed on the fly and
/// plain files are read as they are (zlib detects which), so every reader in data/ accepts both.
#include <cstdint>
#include <string>

struct gzFile_s;  // zlib's handle type, kept out of this header

namespace reel {

class GzFile {
 public:
  /// Opens path; throws DataError naming it if it does not exist, is not a regular file or cannot
  /// be opened.
  explicit GzFile(const std::string& path);
  ~GzFile();
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  /// Reads up to n bytes into buf and returns how many were read: fewer than n only at the end of
  /// the data (see truncated()). Throws DataError on corrupt compressed data or a read error.
  int64_t read(void* buf, int64_t n);
  /// Reads the next line into line, without its '\n' (and without a trailing '\r').
  /// Returns false at the end of the file; throws DataError if a gzip stream ends early.
  bool read_line(std::string& line);
  /// read_line refuses lines longer than this (default 1 MiB) with a DataError naming the file.
  void set_max_line(size_t bytes) { max_line_ = bytes; }
  /// True once the end of the input was reached in the middle of a gzip stream.
  bool truncated() const;
  /// True if the file is read as it is (not gzip-compressed).
  bool is_plain() const;
  const std::string& path() const { return path_; }

 private:
  void check_error(int rc);
  std::string path_;
  gzFile_s* file_ = nullptr;
  size_t max_line_ = size_t{1} << 20;
};

}  // namespace reel
