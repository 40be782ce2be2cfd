// Word lists (filters, lower-casing, de-duplication, errors), UTF-8 code points, and the Debian
// lists' counts per split as tools/g2p_data.py measures them.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/line_reader.h"
#include "data/split.h"
#include "data/utf8.h"
#include "data/wordlist.h"
#include "framework/error.h"
#include "tests/data_test_util.h"
#include "tests/python_tool.h"

using namespace reel;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using reel::testing::data_error_message;
using reel::testing::kPython;
using reel::testing::run_python;
using reel::testing::TempDir;
using reel::testing::write_text;

namespace {

using Words = std::vector<std::string>;


}  // namespace

TEST_CASE("utf8_code_points splits words into code points", "[data][utf8]") {
  CHECK(utf8_code_points("na\xC3\xAFve") == Words{"n", "a", "\xC3\xAF", "v", "e"});  // naïve: ï is 2 bytes
  CHECK(utf8_code_points("Stra\xC3\x9F" "e") == Words{"S", "t", "r", "a", "\xC3\x9F", "e"});  // Straße
  CHECK(utf8_length("Stra\xC3\x9F" "e") == 6);
  CHECK(utf8_code_points("") == Words{});
  CHECK(utf8_code_points("\xE2\x82\xAC" "5") == Words{"\xE2\x82\xAC", "5"});          // €, 3 bytes
  CHECK(utf8_code_points("\xF0\x9F\x98\x80") == Words{"\xF0\x9F\x98\x80"});         // U+1F600, 4 bytes
  CHECK(utf8_code_points("ni\xCC\x88") == Words{"n", "i", "\xCC\x88"});            // i + combining diaeresis: no normalization
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));                                        // U+10FFFF, the last code point
  CHECK(is_valid_utf8("\xEF\xBB\xBF"));                                            // a BOM is a code point too
}

TEST_CASE("UTF-8 validation is strict", "[data][utf8]") {
  struct Bad {
    const char* bytes;
    size_t at;
    const char* why;
  };
  const std::vector<Bad> bad = {
      {"ab\x80", 2, "a stray continuation byte"},
      {"a\xC3", 1, "a sequence cut short at the end"},
      {"a\xC3z", 1, "a missing continuation byte"},
      {"\xC0\xAF", 0, "an overlong 2-byte '/'"},
      {"\xC1\xBF", 0, "an overlong 2-byte form"},
      {"\xE0\x80\xAF", 0, "an overlong 3-byte '/'"},
      {"\xF0\x80\x80\xAF", 0, "an overlong 4-byte '/'"},
      {"x\xED\xA0\x80", 1, "a surrogate, U+D800"},
      {"\xF4\x90\x80\x80", 0, "above U+10FFFF"},
      {"\xF5\x80\x80\x80", 0, "F5 never starts a sequence"},
      {"\xFF", 0, "FF is never UTF-8"},
      {"\xE2\x82", 0, "a 3-byte sequence cut short"},
  };
  for (const Bad& b : bad) {
    INFO(b.why);
    CHECK_FALSE(is_valid_utf8(b.bytes));
    CHECK(utf8_invalid_offset(b.bytes) == b.at);
    CHECK_THROWS_AS(utf8_code_points(b.bytes), UsageError);
    CHECK_THROWS_WITH(check_utf8(b.bytes, "f.txt", 7), StartsWith("f.txt:7: invalid UTF-8 at byte " + std::to_string(b.at)));
  }
  CHECK(utf8_invalid_offset("Stra\xC3\x9F" "e") == std::string::npos);
  CHECK_NOTHROW(check_utf8("na\xC3\xAFve", "f.txt", 1));
}

TEST_CASE("read_wordlist drops apostrophes, lower-cases ASCII and dedupes, in that order", "[data][wordlist]") {
  TempDir tmp("wordlist");
  // Bill / bill / BILL are one word lower-cased; "Äbte" keeps its non-ASCII capital; ’ is U+2019.
  const std::string path = write_text(tmp.file("words"),
                                      "Bill\nbill\nzygote\nzygote's\nO\xE2\x80\x99" "Brien\n\n"
                                      "\xC3\x84" "bte\r\nBILL\nna\xC3\xAFve\nStra\xC3\x9F" "e\nbill\n");
  const Words all_raw = {"Bill", "bill", "zygote", "zygote's", "O\xE2\x80\x99" "Brien", "\xC3\x84" "bte",
                         "BILL", "na\xC3\xAFve", "Stra\xC3\x9F" "e", "bill"};
  SECTION("defaults: apostrophes dropped, case kept, deduped") {
    CHECK(read_wordlist(path) == Words{"Bill", "bill", "zygote", "\xC3\x84" "bte", "BILL", "na\xC3\xAFve", "Stra\xC3\x9F" "e"});
  }
  SECTION("lower-cased: ASCII only, first of equal words kept") {
    WordListOptions o;
    o.lowercase = true;
    CHECK(read_wordlist(path, o) == Words{"bill", "zygote", "\xC3\x84" "bte", "na\xC3\xAFve", "stra\xC3\x9F" "e"});
  }
  SECTION("every filter off: the lines as they are (empty line skipped, CR removed)") {
    WordListOptions o;
    o.drop_apostrophes = false;
    o.dedupe = false;
    CHECK(read_wordlist(path, o) == all_raw);
  }
  SECTION("code points of what was read") {
    const Words w = read_wordlist(path);
    CHECK(utf8_code_points(w[5]) == Words{"n", "a", "\xC3\xAF", "v", "e"});
  }
  SECTION("tools/g2p_data.py filters alike") {
    if (!fs::exists(kPython)) {
      WARN("SKIPPED: " << kPython << " not found");
      return;
    }
    CHECK(run_python("g2p_data.py --check-wordlist " + path, tmp) == Words{path + ": 7 words"});
    CHECK(run_python("g2p_data.py --lowercase --check-wordlist " + path, tmp) == Words{path + ": 5 words"});
    CHECK(run_python("g2p_data.py --keep-apostrophes --no-dedupe --check-wordlist " + path, tmp) == Words{path + ": 10 words"});
  }
}

TEST_CASE("read_wordlist: invalid UTF-8 or a line that is not one word is a DataError naming file and line", "[data][wordlist]") {
  TempDir tmp("wordlist_bad");
  struct Case {
    const char* line;
    const char* what;
  };
  const std::vector<Case> cases = {
      {"na\xEFve", "invalid UTF-8 at byte 2 (0xef)"},      // Latin-1 ï, not UTF-8
      {"Stra\xC3", "invalid UTF-8 at byte 4 (0xc3)"},      // cut short
      {"\xC0\xAF", "invalid UTF-8 at byte 0 (0xc0)"},      // overlong
      {"\xED\xA0\x80x", "invalid UTF-8 at byte 0 (0xed)"},  // surrogate
      {"two words", "byte 0x20 at 3 (a space or control character): expected one word per line"},
      {"tab\tbed", "byte 0x09 at 3"},
      {"bell\x07", "byte 0x07 at 4"},
      {"del\x7F", "byte 0x7f at 3"},
  };
  std::vector<std::pair<std::string, std::string>> errors;  // (path, reel's message)
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    INFO(c.what);
    const std::string path = write_text(tmp.file("bad" + std::to_string(i)), std::string("good\n\n") + c.line + "\nfine\n");
    const std::string msg = data_error_message([&] { read_wordlist(path); });
    CHECK_THAT(msg, StartsWith(path + ":3: "));
    CHECK_THAT(msg, Contains(c.what));
    CHECK_THAT(msg, Contains("expected"));
    errors.emplace_back(path, msg);
  }
  // The longest line allowed is kMaxLine bytes with its '\n'; one byte more is refused.
  const std::string longest = write_text(tmp.file("longest"), "a\nb\n" + std::string(LineReader::kMaxLine - 1, 'x') + "\n");
  CHECK(read_wordlist(longest).size() == 3);
  const std::string too_long = write_text(tmp.file("too_long"), "a\nb\n" + std::string(LineReader::kMaxLine, 'x') + "\n");
  errors.emplace_back(too_long, data_error_message([&] { read_wordlist(too_long); }));
  CHECK_THAT(errors.back().second, StartsWith(too_long + ":3: a line longer than 1048576 bytes"));
  const std::string missing = tmp.file("nope");
  errors.emplace_back(missing, data_error_message([&] { read_wordlist(missing); }));
  CHECK(errors.back().second == missing + ": no such file");

  // tools/g2p_data.py gives each file the same message, word for word.
  if (!fs::exists(kPython)) {
    WARN("SKIPPED the comparison with tools/g2p_data.py: " << kPython << " not found");
    return;
  }
  std::string args = "g2p_data.py --check-wordlist";
  for (const auto& e : errors) args += " " + e.first;
  const Words py = run_python(args, tmp, 1);
  REQUIRE(py.size() == errors.size());
  for (size_t i = 0; i < errors.size(); ++i) CHECK(py[i] == errors[i].second);
  CHECK(run_python("g2p_data.py --check-wordlist " + longest, tmp) == Words{longest + ": 3 words"});
}

TEST_CASE("language_files maps en, fr, de, es to the Debian word lists", "[data][wordlist]") {
  const auto& files = language_files();
  REQUIRE(files.size() == 4);
  CHECK(language_file("en") == "/usr/share/dict/american-english");
  CHECK(language_file("fr") == "/usr/share/dict/french");
  CHECK(language_file("de") == "/usr/share/dict/ngerman");
  CHECK(language_file("es") == "/usr/share/dict/spanish");
  CHECK(std::string(files[0].package) == "wamerican");
  CHECK_THROWS_AS(language_file("xx"), UsageError);
  CHECK_THROWS_WITH(language_file("xx"), Contains("'xx'") && Contains("en, fr, de, es"));
}

TEST_CASE("The Debian word lists split 90/5/5 as tools/g2p_data.py splits them", "[data][wordlist][real]") {
  // Measured with `/usr/bin/python3 tools/g2p_data.py` (default options: apostrophe words dropped,
  // case kept, deduped) and `... --lowercase`, on wamerican 2020.12.07-2, wfrench 1.2.7-2,
  // wngerman 20161207-11, wspanish 1.0.30.
  struct Want {
    const char* language;
    SplitCounts cased, lower;
  };
  const std::vector<Want> wants = {
      {"en", {67361, 3709, 3674}, {66312, 3639, 3653}},
      {"fr", {311425, 17356, 17244}, {311425, 17356, 17244}},
      {"de", {320410, 17765, 17835}, {320557, 17651, 17798}},
      {"es", {77389, 4222, 4403}, {77389, 4222, 4403}},
  };
  int read = 0;
  for (const Want& want : wants) {
    const std::string path = language_file(want.language);
    if (!fs::exists(path)) {
      WARN("SKIPPED " << want.language << ": " << path << " not found (see tools/setup.sh)");
      continue;
    }
    ++read;
    INFO(want.language);
    const Words words = read_language(want.language);
    const SplitCounts c = count_splits(words);
    CHECK(c.train == want.cased.train);
    CHECK(c.dev == want.cased.dev);
    CHECK(c.test == want.cased.test);
    for (const Split s : {Split::Train, Split::Dev, Split::Test}) {
      INFO(split_name(s));
      const double want_pct = s == Split::Train ? 90.0 : 5.0;
      CHECK(std::abs(100.0 * static_cast<double>(c.of(s)) / static_cast<double>(c.total()) - want_pct) <= 1.0);
    }
    WordListOptions o;
    o.lowercase = true;
    const SplitCounts l = count_splits(read_language(want.language, o));
    CHECK(l.train == want.lower.train);
    CHECK(l.dev == want.lower.dev);
    CHECK(l.test == want.lower.test);
    for (const std::string& w : words) {
      if (utf8_length(w) < 1) FAIL_CHECK("empty word");
      if (w.find('\'') != std::string::npos) FAIL_CHECK("apostrophe kept in " << w);
    }
  }
  if (read == 0) WARN("no word list installed: nothing checked");
}
