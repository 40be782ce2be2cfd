#pragma once
/// \file
/// Errors from reading data files. Every message names the file, the line number for text formats,
/// and what was expected versus what was found, e.g.
/// \code{.unparsed}
///   "data/en_ewt-ud-dev.conllu:42: expected 10 tab-separated fields, got 9".
/// \endcode
#include <cstdint>
#include <stdexcept>
#include <string>

namespace reel {

/// A data file is missing, unreadable, truncated or malformed.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Throws DataError "path: what".
[[noreturn]] inline void throw_data(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what);
}
/// Throws DataError "path:line: what" (line is 1-based).
[[noreturn]] inline void throw_data(const std::string& path, int64_t line, const std::string& what) {
  throw DataError(path + ":" + std::to_string(line) + ": " + what);
}

}  // namespace reel
