#include "data/cmudict.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "data/data_error.h"
#include "data/line_reader.h"
#include "data/vocab.h"

namespace reel {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_phone_char(char c) { return (c >= 'A' && c <= 'Z') || is_digit(c); }

// Splits line into fields separated by runs of spaces and tabs; a leading separator gives an empty
// first field (an empty word), so the caller can name it.
void split_fields(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  size_t i = 0;
  if (!line.empty() && is_space(line[0])) fields.emplace_back();
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) break;
    const size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    fields.emplace_back(line, start, i - start);
  }
}

// The base word of a headword: "a(2)" -> "a", "a" -> "a"; throws on a malformed marker.
std::string base_word(const std::string& word, const std::string& path, int64_t line) {
  if (word.empty())
    throw_data(path, line, "empty word (the line starts with a space or tab): expected WORD PH1 PH2 ...");
  if (word.back() == ')') {
    const size_t open = word.rfind('(');
    const std::string number = open == std::string::npos ? "" : word.substr(open + 1, word.size() - open - 2);
    if (open == std::string::npos || number.empty() || number[0] == '0' ||
        !std::all_of(number.begin(), number.end(), is_digit))
      throw_data(path, line, "bad alternate marker in '" + word +
                                 "': expected WORD(N) with N a positive integer, e.g. 'a(2)'");
    if (open == 0)
      throw_data(path, line, "empty word before the alternate marker in '" + word + "': expected WORD(N)");
    return word.substr(0, open);
  }
  size_t k = word.size();
  while (k > 0 && is_digit(word[k - 1])) --k;
  if (k > 0 && word[k - 1] == '(')
    throw_data(path, line, "unclosed alternate marker in '" + word + "': expected WORD(N), e.g. 'a(2)'");
  return word;
}

// Checks a phone and strips its stress digits if asked.
std::string parse_phone(const std::string& phone, bool strip_stress, const std::string& path, int64_t line) {
  if (!std::all_of(phone.begin(), phone.end(), is_phone_char))
    throw_data(path, line, "bad phone '" + phone + "': expected upper-case letters and digits [A-Z0-9], e.g. 'AH' or 'AH0'");
  if (!strip_stress) return phone;
  size_t k = phone.size();
  while (k > 0 && is_digit(phone[k - 1])) --k;
  if (k == 0)
    throw_data(path, line, "phone '" + phone + "' is only stress digits: expected a phone such as 'AH0'");
  return phone.substr(0, k);
}

}  // namespace

bool CmuDict::add(Pronunciation p) {
  auto it = index_.find(p.word);
  if (it == index_.end()) {
    it = index_.emplace(p.word, entries_.size()).first;
    entries_.push_back(CmuEntry{p.word, {}});
  }
  CmuEntry& e = entries_[it->second];
  for (const Pronunciation& q : e.pronunciations)
    if (q.phones == p.phones) {
      ++duplicates_;
      return false;
    }
  e.pronunciations.push_back(std::move(p));
  ++num_pronunciations_;
  return true;
}

const CmuEntry* CmuDict::find(const std::string& word) const {
  const auto it = index_.find(word);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::vector<CmuEntry> CmuDict::entries(Split split) const {
  std::vector<CmuEntry> out;
  for (const CmuEntry& e : entries_)
    if (split_of(e.word) == split) out.push_back(e);
  return out;
}

std::vector<Pronunciation> CmuDict::pronunciations(Split split) const {
  std::vector<Pronunciation> out;
  for (const CmuEntry& e : entries_)
    if (split_of(e.word) == split) out.insert(out.end(), e.pronunciations.begin(), e.pronunciations.end());
  return out;
}

SplitCounts CmuDict::word_counts() const {
  SplitCounts c;
  for (const CmuEntry& e : entries_) c.add(split_of(e.word));
  return c;
}

SplitCounts CmuDict::pronunciation_counts() const {
  SplitCounts c;
  for (const CmuEntry& e : entries_) c.add(split_of(e.word), static_cast<int64_t>(e.pronunciations.size()));
  return c;
}

std::vector<std::string> CmuDict::phone_set() const {
  std::set<std::string> phones;
  for (const CmuEntry& e : entries_)
    for (const Pronunciation& p : e.pronunciations) phones.insert(p.phones.begin(), p.phones.end());
  return {phones.begin(), phones.end()};
}

CmuDict read_cmudict(const std::string& path, const CmuDictOptions& options) {
  LineReader in(path);
  CmuDict dict;
  std::string line;
  std::vector<std::string> fields;
  while (in.next(line)) {
    const int64_t n = in.line_number();
    if (line.compare(0, 3, ";;;") == 0) continue;
    if (std::all_of(line.begin(), line.end(), is_space)) continue;
    split_fields(line, fields);
    Pronunciation p;
    p.word = base_word(fields[0], path, n);
    if (options.lowercase) p.word = ascii_lower(p.word);
    for (size_t i = 1; i < fields.size() && fields[i][0] != '#'; ++i)
      p.phones.push_back(parse_phone(fields[i], options.strip_stress, path, n));
    if (p.phones.empty())
      throw_data(path, n, "no phones after '" + fields[0] + "': expected WORD PH1 PH2 ...");
    dict.add(std::move(p));
  }
  if (dict.num_words() == 0) spdlog::warn("read_cmudict {}: no pronunciations", path);
  spdlog::info("read_cmudict {}: {} words, {} pronunciations ({} duplicates dropped), {} phones", path,
               dict.num_words(), dict.num_pronunciations(), dict.duplicates(), dict.phone_set().size());
  return dict;
}

}  // namespace reel
