#include "data/wordlist.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "data/data_error.h"
#include "data/line_reader.h"
#include "data/utf8.h"
#include "data/vocab.h"
#include "framework/error.h"

namespace reel {
namespace {

bool is_control_or_space(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b <= 0x20 || b == 0x7F;
}

bool has_apostrophe(const std::string& w) {
  return w.find('\'') != std::string::npos || w.find("\xE2\x80\x99") != std::string::npos;  // U+2019
}

}  // namespace

const std::vector<LanguageFile>& language_files() {
  static const std::vector<LanguageFile> files = {
      {"en", "/usr/share/dict/american-english", "wamerican"},
      {"fr", "/usr/share/dict/french", "wfrench"},
      {"de", "/usr/share/dict/ngerman", "wngerman"},
      {"es", "/usr/share/dict/spanish", "wspanish"},
  };
  return files;
}

std::string language_file(const std::string& language) {
  std::string known;
  for (const LanguageFile& f : language_files()) {
    if (language == f.language) return f.path;
    known += known.empty() ? "" : ", ";
    known += f.language;
  }
  throw UsageError("language_file: no word list for language '" + language + "': expected one of " + known);
}

std::vector<std::string> read_wordlist(const std::string& path, const WordListOptions& options) {
  LineReader in(path);
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  std::string line;
  int64_t lines = 0, apostrophes = 0, duplicates = 0;
  while (in.next(line)) {
    const int64_t n = in.line_number();
    if (line.empty()) continue;
    ++lines;
    check_utf8(line, path, n);
    const auto bad = std::find_if(line.begin(), line.end(), is_control_or_space);
    if (bad != line.end()) {
      char what[120];
      std::snprintf(what, sizeof what, "byte 0x%02x at %zu (a space or control character): expected one word per line",
                    static_cast<unsigned>(static_cast<unsigned char>(*bad)), static_cast<size_t>(bad - line.begin()));
      throw_data(path, n, what);
    }
    if (options.drop_apostrophes && has_apostrophe(line)) {
      ++apostrophes;
      continue;
    }
    std::string word = options.lowercase ? ascii_lower(line) : line;
    if (options.dedupe && !seen.insert(word).second) {
      ++duplicates;
      continue;
    }
    out.push_back(std::move(word));
  }
  spdlog::info("read_wordlist {}: {} words of {} lines ({} with an apostrophe dropped, {} duplicates dropped)",
               path, out.size(), lines, apostrophes, duplicates);
  return out;
}

std::vector<std::string> read_language(const std::string& language, const WordListOptions& options) {
  return read_wordlist(language_file(language), options);
}

}  // namespace reel
