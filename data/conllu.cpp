#include "data/conllu.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "data/data_error.h"
#include "data/gz_file.h"

namespace reel {
namespace {

constexpr size_t kNumFields = 10;

// Splits line on '\t' into fields (reusing its storage).
void split_tabs(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    if (tab == std::string::npos) {
      fields.emplace_back(line, start);
      return;
    }
    fields.emplace_back(line, start, tab - start);
    start = tab + 1;
  }
}

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; });
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

const std::vector<std::string>& upos_tags() {
  static const std::vector<std::string> tags = {"ADJ",  "ADP",   "ADV",  "AUX",   "CCONJ", "DET",
                                                "INTJ", "NOUN",  "NUM",  "PART",  "PRON",  "PROPN",
                                                "PUNCT", "SCONJ", "SYM", "VERB", "X"};
  return tags;
}

int64_t upos_index(const std::string& tag) {
  const auto& tags = upos_tags();
  const auto it = std::find(tags.begin(), tags.end(), tag);
  return it == tags.end() ? -1 : static_cast<int64_t>(it - tags.begin());
}

std::vector<Sentence> read_conllu(const std::string& path) {
  GzFile f(path);
  std::vector<Sentence> out;
  Sentence cur;
  std::string line;
  std::vector<std::string> fields;
  int64_t line_no = 0;
  int64_t tokens = 0;
  auto flush = [&] {
    if (cur.words.empty()) return;
    tokens += static_cast<int64_t>(cur.words.size());
    out.push_back(std::move(cur));
    cur = Sentence{};
  };
  while (f.read_line(line)) {
    ++line_no;
    if (is_blank(line)) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;
    split_tabs(line, fields);
    if (fields.size() != kNumFields)
      throw_data(path, line_no, "expected 10 tab-separated fields, got " +
                                    std::to_string(fields.size()));
    const std::string& id = fields[0];
    const size_t sep = id.find_first_of("-.");
    if (sep != std::string::npos) {  // a multiword range "3-4" or an empty node "8.1": both parts integers
      const std::string a = id.substr(0, sep), b = id.substr(sep + 1);
      if (!all_digits(a) || !all_digits(b) || a.size() > 9 || b.size() > 9 ||
          (id[sep] == '-' && std::stoll(b) <= std::stoll(a)))
        throw_data(path, line_no, "malformed token ID '" + id + "': expected an integer, a range like 3-4, or an empty node like 8.1");
      continue;
    }
    if (!all_digits(id) || id.size() > 9)
      throw_data(path, line_no, "expected an integer token ID (or a range 1-2, or 8.1), got '" +
                                    id + "'");
    const int64_t want = static_cast<int64_t>(cur.words.size()) + 1;
    if (std::stoll(id) != want)
      throw_data(path, line_no, "expected token ID " + std::to_string(want) + ", got " + id +
                                    " (missing blank line between sentences?)");
    const std::string& tag = fields[3];
    if (upos_index(tag) < 0)
      throw_data(path, line_no, "unknown UPOS tag '" + tag +
                                    "': expected one of the 17 UD tags (ADJ ADP ... VERB X)");
    cur.words.push_back(std::move(fields[1]));
    cur.upos.push_back(tag);
  }
  flush();
  spdlog::info("read_conllu {}: {} sentences, {} tokens", path, out.size(), tokens);
  return out;
}

std::vector<std::vector<std::string>> words_of(const std::vector<Sentence>& sentences) {
  std::vector<std::vector<std::string>> out;
  out.reserve(sentences.size());
  for (const Sentence& s : sentences) out.push_back(s.words);
  return out;
}

template <class T>
SequenceDataset<T> upos_dataset(const std::string& name, const std::vector<Sentence>& sentences, const Vocab& vocab) {
  SequenceDataset<T> d(name);
  for (const Sentence& s : sentences) {
    if (s.words.empty()) continue;
    std::vector<int64_t> tags;
    for (const auto& tag : s.upos) tags.push_back(upos_index(tag));
    d.add_ids(vocab.ids(s.words), std::move(tags));
  }
  d.require_nonempty();
  return d;
}
template SequenceDataset<float> upos_dataset(const std::string&, const std::vector<Sentence>&, const Vocab&);
template SequenceDataset<double> upos_dataset(const std::string&, const std::vector<Sentence>&, const Vocab&);

}  // namespace reel
