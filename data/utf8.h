#pragma once
/// \file
/// UTF-8 validation and splitting into code points, for models whose symbols are characters.
///
/// Validation is strict (the Unicode standard's well-formed UTF-8, as Python's bytes.decode("utf-8")
/// accepts): no overlong forms, no surrogates (U+D800-U+DFFF), nothing above U+10FFFF, no stray
/// continuation bytes, no sequence cut short.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reel {

/// The offset of the first byte of s that does not start a well-formed UTF-8 sequence (or of a
/// sequence that is cut short or malformed), or std::string::npos if all of s is valid UTF-8.
size_t utf8_invalid_offset(std::string_view s);
/// True if s is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view s) { return utf8_invalid_offset(s) == std::string::npos; }
/// Throws DataError "path:line: invalid UTF-8 at byte N (0xNN): expected ..." unless s is
/// well-formed UTF-8 (N is 0-based within s).
void check_utf8(std::string_view s, const std::string& path, int64_t line);

/// The code points of s, each as the std::string of its 1 to 4 bytes: "Straße" gives
/// {"S", "t", "r", "a", "ß", "e"} (ß is 2 bytes). No normalization: a precomposed "ï" (U+00EF) is
/// one symbol, "i" + U+0308 two. Throws UsageError if s is not valid UTF-8 (text from a file is
/// checked by its reader, or by check_utf8, first).
std::vector<std::string> utf8_code_points(std::string_view s);
/// How many code points valid UTF-8 s has (utf8_code_points(s).size()); throws as it does.
int64_t utf8_length(std::string_view s);

}  // namespace reel
