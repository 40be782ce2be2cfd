#include "data/vocab.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <utility>

#include "data/data_error.h"
#include "data/gz_file.h"
#include "framework/error.h"

namespace reel {
namespace {

constexpr const char* kHeader = "reel-vocab v1 lowercase=";

bool is_reserved(const std::string& w) { return w == Vocab::kPadWord || w == Vocab::kUnkWord; }

}  // namespace

std::string ascii_lower(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

Vocab::Vocab(bool lowercase) : lowercase_(lowercase) {
  add(kPadWord);
  add(kUnkWord);
}

std::string Vocab::normalize(const std::string& word) const {
  return lowercase_ ? ascii_lower(word) : word;
}

void Vocab::add(const std::string& word) {
  index_.emplace(word, static_cast<int64_t>(words_.size()));
  words_.push_back(word);
}

Vocab Vocab::from_counts(const std::unordered_map<std::string, int64_t>& counts,
                         int64_t min_count, bool lowercase) {
  std::unordered_map<std::string, int64_t> merged;
  const std::unordered_map<std::string, int64_t>* use = &counts;
  if (lowercase) {
    for (const auto& [w, c] : counts) merged[ascii_lower(w)] += c;
    use = &merged;
  }
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [w, c] : *use)
    if (c >= min_count && c > 0 && !w.empty() && !is_reserved(w)) kept.emplace_back(w, c);
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocab v(lowercase);
  for (const auto& [w, c] : kept) v.add(w);
  spdlog::debug("vocab: {} of {} distinct words have count >= {}", kept.size(), use->size(),
                min_count);
  return v;
}

Vocab Vocab::from_sentences(const std::vector<std::vector<std::string>>& sentences,
                            int64_t min_count, bool lowercase) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& s : sentences)
    for (const auto& w : s) ++counts[w];
  return from_counts(counts, min_count, lowercase);
}

Vocab Vocab::from_words(const std::vector<std::string>& words, bool lowercase) {
  if (words.size() < 2 || words[0] != kPadWord || words[1] != kUnkWord)
    throw UsageError("Vocab::from_words: expected the list to start with <pad>, <unk>");
  Vocab v(lowercase);
  for (size_t i = 2; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.empty()) throw UsageError("Vocab::from_words: empty word at id " + std::to_string(i));
    if (v.index_.count(w) != 0)
      throw UsageError("Vocab::from_words: duplicate word '" + w + "' at id " + std::to_string(i));
    v.add(w);
  }
  return v;
}

int64_t Vocab::id(const std::string& word) const {
  const auto it = index_.find(normalize(word));
  return it == index_.end() ? kUnk : it->second;
}

std::vector<int64_t> Vocab::ids(const std::vector<std::string>& words) const {
  std::vector<int64_t> out;
  out.reserve(words.size());
  for (const auto& w : words) out.push_back(id(w));
  return out;
}

const std::string& Vocab::word(int64_t id) const {
  if (id < 0 || id >= size())
    throw UsageError("Vocab::word: id " + std::to_string(id) + " out of range [0, " +
                     std::to_string(size()) + ")");
  return words_[static_cast<size_t>(id)];
}

bool Vocab::contains(const std::string& word) const { return index_.count(normalize(word)) != 0; }

void Vocab::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw_data(path, "cannot open for writing");
  out << kHeader << (lowercase_ ? 1 : 0) << '\n';
  for (const auto& w : words_) out << w << '\n';
  out.flush();
  if (!out) throw_data(path, "write failed");
}

Vocab Vocab::load(const std::string& path) {
  GzFile f(path);
  std::string line;
  if (!f.read_line(line)) throw_data(path, 1, "expected header \"reel-vocab v1 lowercase=0|1\", got an empty file");
  const std::string header = kHeader;
  if (line != header + "0" && line != header + "1")
    throw_data(path, 1, "expected header \"reel-vocab v1 lowercase=0|1\", got \"" + line + "\"");
  Vocab v(line.back() == '1');
  int64_t line_no = 1;
  while (f.read_line(line)) {
    ++line_no;
    const int64_t id = line_no - 2;
    if (id < 2) {
      const char* want = id == 0 ? kPadWord : kUnkWord;
      if (line != want) throw_data(path, line_no, std::string("expected \"") + want + "\", got \"" + line + "\"");
      continue;
    }
    if (line.empty()) throw_data(path, line_no, "expected a word, got an empty line");
    if (v.index_.count(line) != 0)
      throw_data(path, line_no, "duplicate word \"" + line + "\" (first at id " +
                                    std::to_string(v.index_.at(line)) + ")");
    v.add(line);
  }
  if (line_no < 3) throw_data(path, line_no, "expected <pad> and <unk> after the header");
  return v;
}

}  // namespace reel
