// CMUdict reading (both editions, alternates, errors), the hash split and its Python twin
// (tools/splits.py), and the counts per split that tools/g2p_data.py prints.
#include <zlib.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "data/cmudict.h"
#include "data/data_error.h"
#include "data/line_reader.h"
#include "data/split.h"
#include "data/wordlist.h"
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

using Phones = std::vector<std::string>;


std::vector<Phones> phones_of(const CmuEntry* e) {
  std::vector<Phones> out;
  if (e != nullptr)
    for (const Pronunciation& p : e->pronunciations) out.push_back(p.phones);
  return out;
}

// Debian pocketsphinx style: "a's" sorted between "a" and its alternate, a 4-pronunciation word.
const char* kDebian =
    "'bout B AW T\n"
    "a AH\n"
    "a's EY Z\n"
    "a(2) EY\n"
    "associate AH S OW S IY AH T\n"
    "associate(2) AH S OW S IY EY T\n"
    "associate(3) AH S OW SH IY AH T\n"
    "associate(4) AH S OW SH IY EY T\n"
    "zywicki Z IH W IH K IY\n";

void check_debian(const CmuDict& d) {
  REQUIRE(d.num_words() == 5);
  CHECK(d.num_pronunciations() == 9);
  CHECK(d.duplicates() == 0);
  std::vector<std::string> words;
  for (const CmuEntry& e : d.entries()) words.push_back(e.word);
  CHECK(words == std::vector<std::string>{"'bout", "a", "a's", "associate", "zywicki"});
  CHECK(phones_of(d.find("a")) == std::vector<Phones>{{"AH"}, {"EY"}});
  CHECK(phones_of(d.find("a's")) == std::vector<Phones>{{"EY", "Z"}});
  CHECK(phones_of(d.find("associate")) ==
        std::vector<Phones>{{"AH", "S", "OW", "S", "IY", "AH", "T"}, {"AH", "S", "OW", "S", "IY", "EY", "T"},
                            {"AH", "S", "OW", "SH", "IY", "AH", "T"}, {"AH", "S", "OW", "SH", "IY", "EY", "T"}});
  for (const CmuEntry& e : d.entries())
    for (const Pronunciation& p : e.pronunciations) CHECK(p.word == e.word);
  CHECK(d.find("a(2)") == nullptr);
  CHECK(d.find("b") == nullptr);
}

// The lines tools/g2p_data.py's count_report prints, from reel's readers (default options).
std::vector<std::string> count_report() {
  auto fmt = [](const SplitCounts& c) {
    return "train=" + std::to_string(c.train) + " dev=" + std::to_string(c.dev) + " test=" + std::to_string(c.test);
  };
  std::vector<std::string> lines;
  if (fs::exists(kCmudictPath)) {
    const CmuDict d = read_cmudict(kCmudictPath);
    lines.push_back("cmudict words " + fmt(d.word_counts()));
    lines.push_back("cmudict pronunciations " + fmt(d.pronunciation_counts()));
  }
  for (const LanguageFile& f : language_files())
    if (fs::exists(f.path)) lines.push_back(std::string("words ") + f.language + " " + fmt(count_splits(read_wordlist(f.path))));
  return lines;
}

}  // namespace

TEST_CASE("read_cmudict groups alternates under their base word in file order", "[data][cmudict]") {
  TempDir tmp("cmudict_debian");
  check_debian(read_cmudict(write_text(tmp.file("d.dict"), kDebian)));
  check_debian(read_cmudict(write_text(tmp.file("d.dict.gz"), kDebian, true)));
  // CRLF, tabs, blank lines, a missing final newline and a trailing '#' comment change nothing.
  const std::string messy = "'bout\tB AW T\r\n\n   \na  AH\r\na's EY\tZ # possessive\na(2) EY\n"
                            "associate AH S OW S IY AH T\nassociate(2) AH S OW S IY EY T\n"
                            "associate(3) AH S OW SH IY AH T\nassociate(4) AH S OW SH IY EY T\n"
                            "zywicki Z IH W IH K IY";
  check_debian(read_cmudict(write_text(tmp.file("messy.dict"), messy)));
}

TEST_CASE("read_cmudict reads the 0.7b style: comments, stress digits, (1) markers", "[data][cmudict]") {
  TempDir tmp("cmudict_07b");
  const std::string path = write_text(tmp.file("cmudict-0.7b"),
                                      ";;; # CMUdict  --  Major Version: 0.07\n"
                                      ";;; comment\n"
                                      "(PAREN  P ER0 EH1 N\n"
                                      "#SHARP-SIGN  SH AA1 R P S AY1 N\n"
                                      "A  AH0\n"
                                      "A(1)  EY1\n"
                                      "ABOUT  AH0 B AW1 T\n"
                                      "ZERO  Z IH1 R OW0\n"
                                      "ZERO(1)  Z IY1 R OW0\n"
                                      "ZERO(2)  Z IH1 R OW2\n");
  SECTION("as it is") {
    const CmuDict d = read_cmudict(path);
    CHECK(d.num_words() == 5);
    CHECK(d.num_pronunciations() == 8);
    CHECK(phones_of(d.find("(PAREN")) == std::vector<Phones>{{"P", "ER0", "EH1", "N"}});
    CHECK(d.find("#SHARP-SIGN") != nullptr);
    CHECK(phones_of(d.find("A")) == std::vector<Phones>{{"AH0"}, {"EY1"}});
    CHECK(phones_of(d.find("ZERO")).size() == 3);
    CHECK(d.find("a") == nullptr);
  }
  SECTION("stress stripped and lower-cased: the Debian file's form") {
    CmuDictOptions o;
    o.strip_stress = true;
    o.lowercase = true;
    const CmuDict d = read_cmudict(path, o);
    CHECK(phones_of(d.find("about")) == std::vector<Phones>{{"AH", "B", "AW", "T"}});
    CHECK(phones_of(d.find("a")) == std::vector<Phones>{{"AH"}, {"EY"}});
    CHECK(d.find("(paren") != nullptr);
    // ZERO and ZERO(2) differ only in stress: one pronunciation once it is stripped.
    CHECK(phones_of(d.find("zero")) == std::vector<Phones>{{"Z", "IH", "R", "OW"}, {"Z", "IY", "R", "OW"}});
    CHECK(d.duplicates() == 1);
    CHECK(d.num_pronunciations() == 7);
    for (const auto& ph : d.phone_set()) CHECK(ph.find_first_of("0123456789") == std::string::npos);
  }
}

TEST_CASE("read_cmudict: every malformed line is a DataError naming file and line", "[data][cmudict]") {
  TempDir tmp("cmudict_bad");
  struct Case {
    const char* line;
    const char* what;
  };
  const std::vector<Case> cases = {
      {"b", "no phones after 'b'"},
      {"b # only a comment", "no phones after 'b'"},
      {" b B IY", "empty word"},
      {"\tb B IY", "empty word"},
      {"b(x) B IY", "bad alternate marker in 'b(x)'"},
      {"b(0) B IY", "bad alternate marker in 'b(0)'"},
      {"b(02) B IY", "bad alternate marker in 'b(02)'"},
      {"b() B IY", "bad alternate marker in 'b()'"},
      {"b) B IY", "bad alternate marker in 'b)'"},
      {"b(2 B IY", "unclosed alternate marker in 'b(2'"},
      {"b( B IY", "unclosed alternate marker in 'b('"},
      {"(2) B IY", "empty word before the alternate marker in '(2)'"},
      {"b B iy", "bad phone 'iy'"},
      {"b B IY-", "bad phone 'IY-'"},
      {"b B \xC3\x89", "bad phone"},
  };
  // (path, reel's message) of every malformed file, for the comparison with Python below.
  std::vector<std::pair<std::string, std::string>> errors;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    INFO(c.line);
    const std::string path = write_text(tmp.file("bad" + std::to_string(i) + ".dict"),
                                        std::string("a AH\n;;; ok\n") + c.line + "\nc S IY\n");
    const std::string msg = data_error_message([&] { read_cmudict(path); });
    CHECK_THAT(msg, StartsWith(path + ":3: "));
    CHECK_THAT(msg, Contains(c.what));
    CHECK_THAT(msg, Contains("expected"));
    errors.emplace_back(path, msg);
  }
  // A line over 1 MiB.
  const std::string long_line = write_text(tmp.file("long.dict"), "a AH\nb B IY\nc" + std::string(LineReader::kMaxLine, ' ') + "S IY\n");
  errors.emplace_back(long_line, data_error_message([&] { read_cmudict(long_line); }));
  CHECK_THAT(errors.back().second, StartsWith(long_line + ":3: a line longer than 1048576 bytes"));
  // A gzip file cut in half: the line being read when the stream ends.
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "w" + std::to_string(i) + " D AH B AH L Y UW\n";
  const std::string full = write_text(tmp.file("full.dict.gz"), text, true);
  std::ifstream in(full, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string cut = write_text(tmp.file("cut.dict.gz"), bytes.substr(0, bytes.size() / 2));
  errors.emplace_back(cut, data_error_message([&] { read_cmudict(cut); }));
  CHECK_THAT(errors.back().second, StartsWith(cut + ":"));
  CHECK_THAT(errors.back().second, Contains("unexpected end of gzip stream"));
  // A missing file.
  const std::string missing = tmp.file("nope.dict");
  errors.emplace_back(missing, data_error_message([&] { read_cmudict(missing); }));
  CHECK(errors.back().second == missing + ": no such file");
  // A phone of stress digits only: valid as it is, an error when stripping.
  const std::string digit = write_text(tmp.file("digit.dict"), "a AH\nb B 1\n");
  CHECK(read_cmudict(digit).num_pronunciations() == 2);
  CmuDictOptions strip;
  strip.strip_stress = true;
  const std::string digit_msg = data_error_message([&] { read_cmudict(digit, strip); });
  CHECK_THAT(digit_msg, StartsWith(digit + ":2: phone '1' is only stress digits"));

  // tools/g2p_data.py gives each file the same message, word for word.
  if (!fs::exists(kPython)) {
    WARN("SKIPPED the comparison with tools/g2p_data.py: " << kPython << " not found");
    return;
  }
  std::string args = "g2p_data.py --check-cmudict";
  for (const auto& e : errors) args += " " + e.first;
  const std::vector<std::string> py = run_python(args, tmp, 1);
  REQUIRE(py.size() == errors.size());
  for (size_t i = 0; i < errors.size(); ++i) CHECK(py[i] == errors[i].second);
  CHECK(run_python("g2p_data.py --strip-stress --check-cmudict " + digit, tmp, 1) == std::vector<std::string>{digit_msg});
  CHECK(run_python("g2p_data.py --check-cmudict " + digit, tmp) ==
        std::vector<std::string>{digit + ": 2 words, 2 pronunciations"});
}

TEST_CASE("split_of: FNV-1a 64 % 100, 0-89 train, 90-94 dev, 95-99 test", "[data][split]") {
  // The FNV authors' published FNV-1a 64 test vectors.
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
  // Hashes, buckets and splits printed by `/usr/bin/python3 tools/splits.py a aaron aachener aaa
  // abed phone zygote naïve Straße`; the words sit on the bucket boundaries 0, 89/90, 94/95, 99.
  struct Row {
    const char* word;
    uint64_t hash;
    int bucket;
    Split split;
  };
  const std::vector<Row> rows = {
      {"a", 0xaf63dc4c8601ec8cull, 96, Split::Test},
      {"aaron", 0x85632f274106b5faull, 90, Split::Dev},
      {"aachener", 0x5a19d26672ae5f64ull, 0, Split::Train},
      {"aaa", 0xe71cbc19053f4da2ull, 94, Split::Dev},
      {"abed", 0xfc2bbb83ee17fd7bull, 95, Split::Test},
      {"phone", 0x31fc9c6bde865d6full, 99, Split::Test},
      {"zygote", 0xfc13c3944011858dull, 89, Split::Train},
      {"na\xC3\xAFve", 0x1e858bc68a6332abull, 43, Split::Train},
      {"Stra\xC3\x9F" "e", 0xfdad232cfde89ed8ull, 44, Split::Train},
  };
  for (const Row& r : rows) {
    INFO(r.word);
    CHECK(fnv1a64(r.word) == r.hash);
    CHECK(split_bucket(r.word) == r.bucket);
    CHECK(split_of(r.word) == r.split);
  }
  CHECK(std::string(split_name(Split::Train)) == "train");
  CHECK(std::string(split_name(Split::Dev)) == "dev");
  CHECK(std::string(split_name(Split::Test)) == "test");
  const std::vector<std::string> words = {"a", "aaron", "aaa", "zygote", "phone"};
  const SplitCounts c = count_splits(words);
  CHECK(c.train == 1);
  CHECK(c.dev == 2);
  CHECK(c.test == 2);
  CHECK(c.total() == 5);
  CHECK(words_in(words, Split::Dev) == std::vector<std::string>{"aaron", "aaa"});

  SECTION("tools/splits.py agrees, run now") {
    if (!fs::exists(kPython)) {
      WARN("SKIPPED: " << kPython << " not found");
      return;
    }
    TempDir tmp("splits_py");
    std::string args = "splits.py";
    for (const Row& r : rows) args += std::string(" '") + r.word + "'";
    const std::vector<std::string> lines = run_python(args, tmp);
    REQUIRE(lines.size() == rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(rows[i].word)));
      CHECK(lines[i] == std::string(rows[i].word) + "\t" + hex + "\t" + std::to_string(split_bucket(rows[i].word)) +
                            "\t" + split_name(split_of(rows[i].word)));
    }
  }
}

TEST_CASE("The Debian CMUdict: 125,945 words split 90/5/5 as tools/g2p_data.py splits them", "[data][cmudict][real]") {
  if (!fs::exists(kCmudictPath)) {
    WARN("SKIPPED: " << kCmudictPath << " not found (apt-get install pocketsphinx-en-us)");
    return;
  }
  const CmuDict d = read_cmudict(kCmudictPath);
  CHECK(d.num_words() == 125945);
  CHECK(d.num_pronunciations() == 134723);  // one per line
  CHECK(d.duplicates() == 0);
  CHECK(d.phone_set().size() == 39);
  CHECK(phones_of(d.find("a")) == std::vector<Phones>{{"AH"}, {"EY"}});  // a(2) comes after a's
  CHECK(phones_of(d.find("associate")).size() == 4);
  // Measured with `/usr/bin/python3 tools/g2p_data.py` (pocketsphinx-en-us 0.8+5prealpha+1-15).
  const SplitCounts w = d.word_counts(), p = d.pronunciation_counts();
  CHECK(w.train == 113277);
  CHECK(w.dev == 6286);
  CHECK(w.test == 6382);
  CHECK(p.train == 121172);
  CHECK(p.dev == 6731);
  CHECK(p.test == 6820);
  CHECK(static_cast<int64_t>(d.pronunciations(Split::Dev).size()) == p.dev);
  CHECK(static_cast<int64_t>(d.entries(Split::Test).size()) == w.test);
  for (const Split s : {Split::Train, Split::Dev, Split::Test}) {
    const double want = s == Split::Train ? 90.0 : 5.0;
    INFO(split_name(s));
    CHECK(std::abs(100.0 * static_cast<double>(w.of(s)) / static_cast<double>(w.total()) - want) <= 1.0);
    CHECK(std::abs(100.0 * static_cast<double>(p.of(s)) / static_cast<double>(p.total()) - want) <= 1.0);
  }
  // The file is lower-case and stress-free already: the options change nothing.
  CmuDictOptions o;
  o.strip_stress = true;
  o.lowercase = true;
  const CmuDict same = read_cmudict(kCmudictPath, o);
  CHECK(same.word_counts().dev == w.dev);
  CHECK(same.pronunciation_counts().test == p.test);
}

TEST_CASE("Counts per split from C++ equal tools/g2p_data.py's, run now", "[data][counts][python]") {
  // `reel_tests "[counts]"` prints the same lines as `/usr/bin/python3 tools/g2p_data.py`.
  const std::vector<std::string> cpp = count_report();
  for (const auto& line : cpp) std::cout << line << "\n";
  if (!fs::exists(kPython)) {
    WARN("SKIPPED: " << kPython << " not found");
    return;
  }
  TempDir tmp("g2p_data_py");
  CHECK(run_python("g2p_data.py", tmp) == cpp);
}
