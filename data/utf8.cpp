#include "data/utf8.h"

#include <cstdio>

#include "data/data_error.h"
#include "framework/error.h"

namespace reel {
namespace {

// The length of the well-formed sequence starting at s[i], or 0 if there is none (Unicode
// Table 3-7: the second byte's range depends on the first for E0, ED, F0 and F4).
size_t sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong 3-byte forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong 4-byte forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1 (overlong) or F5-FF
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

std::string describe(std::string_view s, size_t at) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "invalid UTF-8 at byte %zu (0x%02x): expected well-formed UTF-8 text", at,
                static_cast<unsigned>(static_cast<unsigned char>(s[at])));
  return buf;
}

}  // namespace

size_t utf8_invalid_offset(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string::npos;
}

void check_utf8(std::string_view s, const std::string& path, int64_t line) {
  const size_t bad = utf8_invalid_offset(s);
  if (bad != std::string::npos) throw_data(path, line, describe(s, bad));
}

std::vector<std::string> utf8_code_points(std::string_view s) {
  std::vector<std::string> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = sequence_length(s, i);
    if (n == 0) throw UsageError("utf8_code_points: " + describe(s, i));
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

int64_t utf8_length(std::string_view s) {
  int64_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    const size_t n = sequence_length(s, i);
    if (n == 0) throw UsageError("utf8_length: " + describe(s, i));
    i += n;
  }
  return count;
}

}  // namespace reel
