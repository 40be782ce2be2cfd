#pragma once
/// \file
/// Line-by-line reading of a text file (plain or gzip, through GzFile) that counts lines, so that
/// every error names the line: a line over the length limit or a gzip stream ending early becomes
/// DataError "path:line: what" with the number of the line being read.
#include <cstdint>
#include <memory>
#include <string>

namespace reel {

class GzFile;

/// Reads a text file one line at a time and knows the current line's number.
class LineReader {
 public:
  /// Lines longer than this are refused: 1 MiB, counting the line's newline (GzFile's limit).
  static constexpr size_t kMaxLine = size_t{1} << 20;

  /// Opens path; throws DataError naming it if it is missing or cannot be opened.
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// Reads the next line into line, without its newline and without one trailing carriage return.
  /// Returns false at the end of the file. Throws DataError "path:N: ..." for a line longer than
  /// kMaxLine or a truncated or corrupt gzip stream, N being the line that was being read.
  bool next(std::string& line);
  /// The 1-based number of the line last returned by next (0 before the first).
  int64_t line_number() const { return line_; }
  /// The file's path, as given.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<GzFile> file_;
  int64_t line_ = 0;
};

}  // namespace reel
