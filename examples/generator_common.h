// What train_generator and generate share: Debian's word lists as per-language datasets of code
// points, on data/split.h's hash split, and the symbol table.
//
// Each language's training words are its train-split words, the `per_language` with the smallest
// FNV-1a 64 hash of the word (data/split.h: an unbiased, reproducible subset; 0: all); dev and
// test likewise (per_language / 18 each, the split's 5 % against train's 90 %). The category of a
// word is its language's index in --languages.
#pragma once

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "data/dataset.h"
#include "data/split.h"
#include "data/utf8.h"
#include "data/vocab.h"
#include "data/wordlist.h"

namespace reel::examples {

// The symbols: <pad>, <unk>, <s> (2, bos), </s> (3, eos), then code points by descending count.
inline Vocab symbol_vocab(const std::unordered_map<std::string, int64_t>& counts) {
  std::vector<std::string> w = Vocab::from_counts(counts, 1).words();
  w.insert(w.begin() + 2, {"<s>", "</s>"});
  return Vocab::from_words(w);
}

inline std::vector<std::string> split_words(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + sep)
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  return out;
}

// The words of a split with the smallest hashes, at most n (0: all), in hash order.
inline std::vector<std::string> hash_subset(const std::vector<std::string>& words, Split split, int64_t n) {
  std::vector<std::pair<uint64_t, std::string>> h;
  for (const std::string& w : words)
    if (split_of(w) == split) h.emplace_back(fnv1a64(w), w);
  std::sort(h.begin(), h.end());
  if (n > 0 && static_cast<int64_t>(h.size()) > n) h.resize(static_cast<size_t>(n));
  std::vector<std::string> out;
  for (auto& p : h) out.push_back(std::move(p.second));
  return out;
}

struct WordTask {
  std::vector<std::string> languages;
  Vocab symbols;
  SequenceDataset<float> train{"train"}, dev{"dev"}, test{"test"};  // label: the language's index
  std::vector<std::unordered_set<std::string>> all_words, train_words;  // per language
  int64_t max_chars = 0;
};

inline void add_words(const WordTask& t, SequenceDataset<float>& d, const std::vector<std::string>& words, int64_t lang) {
  for (const std::string& w : words) d.add_ids(t.symbols.ids(utf8_code_points(w)), {}, lang);
}

inline WordTask word_task(const std::vector<std::string>& languages, int64_t per_language) {
  WordTask t;
  t.languages = languages;
  std::vector<std::vector<std::string>> lists, train;
  std::unordered_map<std::string, int64_t> counts;
  for (const std::string& lang : languages) {
    lists.push_back(read_language(lang));
    train.push_back(hash_subset(lists.back(), Split::Train, per_language));
    for (const std::string& w : train.back()) {
      const auto cps = utf8_code_points(w);
      t.max_chars = std::max<int64_t>(t.max_chars, static_cast<int64_t>(cps.size()));
      for (const std::string& c : cps) ++counts[c];
    }
  }
  t.symbols = symbol_vocab(counts);
  const int64_t held = per_language > 0 ? std::max<int64_t>(1, per_language / 18) : 0;
  for (size_t l = 0; l < languages.size(); ++l) {
    add_words(t, t.train, train[l], static_cast<int64_t>(l));
    add_words(t, t.dev, hash_subset(lists[l], Split::Dev, held), static_cast<int64_t>(l));
    add_words(t, t.test, hash_subset(lists[l], Split::Test, held), static_cast<int64_t>(l));
    t.all_words.emplace_back(lists[l].begin(), lists[l].end());
    t.train_words.emplace_back(train[l].begin(), train[l].end());
  }
  for (const auto* d : {&t.train, &t.dev, &t.test}) d->require_nonempty();
  return t;
}

// A sampled word's text; empty if it holds a symbol no word has (<pad>, <unk>, <s>).
inline std::string word_text(const Vocab& symbols, const std::vector<int64_t>& ids, bool* special = nullptr) {
  std::string s;
  bool bad = false;
  for (int64_t id : ids) {
    if (id < 4) bad = true;
    else s += symbols.word(id);
  }
  if (special) *special = bad;
  return s;
}

}  // namespace reel::examples
