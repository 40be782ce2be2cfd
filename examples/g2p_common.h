// What train_g2p and g2p share: the CMU dictionary as letter -> phone datasets on data/split.h's
// hash split, the symbol tables, word <-> ids, and scoring decoded pronunciations (WER, PER).
//
// Sources are a word's letters (UTF-8 code points); targets its phones. Every pronunciation of a
// training word is one training pair; a dev or test word is scored against all of its
// pronunciations (correct if it equals any, phone errors against the closest).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "data/cmudict.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/utf8.h"
#include "data/vocab.h"
#include "models/decoding.h"
#include "models/sequence_metrics.h"

namespace reel::examples {

// The target symbols: <pad>, <unk>, <s> (2, the model's bos), </s> (3, eos), then the phones.
inline Vocab phone_vocab(const std::vector<std::string>& phones) {
  std::vector<std::string> w = {Vocab::kPadWord, Vocab::kUnkWord, "<s>", "</s>"};
  w.insert(w.end(), phones.begin(), phones.end());
  return Vocab::from_words(w);
}

// A word's letters as source ids; strict: a letter the model never saw is a UsageError naming it.
inline std::vector<int64_t> letter_ids(const Vocab& letters, const std::string& word, bool strict) {
  std::vector<int64_t> ids;
  for (const std::string& c : utf8_code_points(word)) {
    if (strict && !letters.contains(c)) {
      std::string known;
      for (int64_t i = 2; i < letters.size(); ++i) known += letters.word(i);
      throw UsageError("'" + word + "': unknown symbol '" + c + "' (the model knows: " + known + ")");
    }
    ids.push_back(letters.id(c));
  }
  if (ids.empty()) throw UsageError("an empty word: nothing to transcribe");
  return ids;
}

struct G2PSplit {
  SequenceDataset<float> sources;
  std::vector<std::string> words;
  std::vector<std::vector<std::vector<int64_t>>> refs;  // per word, its pronunciations as phone ids
};

struct G2PTask {
  Vocab letters, phones;
  SequenceDataset<float> train_src{"train"}, train_tgt{"train targets"};
  G2PSplit dev, test;
  int64_t max_phones = 0;  // the longest training pronunciation
};

inline void fill_split(G2PSplit& s, const std::vector<CmuEntry>& entries, const G2PTask& t, const char* name) {
  s.sources = SequenceDataset<float>(name);
  for (const CmuEntry& e : entries) {
    s.sources.add_ids(letter_ids(t.letters, e.word, false));
    s.words.push_back(e.word);
    std::vector<std::vector<int64_t>> refs;
    for (const Pronunciation& p : e.pronunciations) refs.push_back(t.phones.ids(p.phones));
    s.refs.push_back(std::move(refs));
  }
  s.sources.require_nonempty();
}

// A split's entries in the order of their words' FNV-1a 64 hashes (data/split.h): a prefix of it
// is an unbiased, reproducible sample (the file is alphabetical).
inline std::vector<CmuEntry> by_hash(std::vector<CmuEntry> e) {
  std::sort(e.begin(), e.end(), [](const CmuEntry& a, const CmuEntry& b) {
    const uint64_t ha = fnv1a64(a.word), hb = fnv1a64(b.word);
    return ha != hb ? ha < hb : a.word < b.word;
  });
  return e;
}

// The task from the dictionary, every split in hash order; limit > 0 keeps the first `limit`
// training words of that order (a quick run on a fair sample).
inline G2PTask g2p_task(const CmuDict& dict, int64_t limit) {
  G2PTask t;
  std::vector<CmuEntry> train = by_hash(dict.entries(Split::Train));
  if (limit > 0 && static_cast<int64_t>(train.size()) > limit) train.resize(static_cast<size_t>(limit));
  std::unordered_map<std::string, int64_t> counts;
  for (const CmuEntry& e : train)
    for (const std::string& c : utf8_code_points(e.word)) ++counts[c];
  t.letters = Vocab::from_counts(counts, 1);
  t.phones = phone_vocab(dict.phone_set());
  for (const CmuEntry& e : train)
    for (const Pronunciation& p : e.pronunciations) {
      t.train_src.add_ids(letter_ids(t.letters, e.word, true));
      t.train_tgt.add_ids(t.phones.ids(p.phones));
      t.max_phones = std::max<int64_t>(t.max_phones, static_cast<int64_t>(p.phones.size()));
    }
  t.train_src.require_nonempty();
  fill_split(t.dev, by_hash(dict.entries(Split::Dev)), t, "dev");
  fill_split(t.test, by_hash(dict.entries(Split::Test)), t, "test");
  return t;
}

// Decodes every word of a split (greedy for beam 1, else beam search) and scores it.
template <class T>
ErrorRates score_split(const EncoderDecoder<T>& model, Tape<T>& tape, const G2PSplit& s, int64_t beam, int64_t max_len,
                       int64_t limit = 0) {
  ErrorRates r;
  DataLoader<T> loader(s.sources, {beam > 1 ? 64 : 256});
  for_each_batch_no_grad(tape, loader, [&](Tape<T>& t, const SequenceBatch<T>& b) {
    if (limit > 0 && r.words >= limit) return;
    std::vector<Hypothesis> best;
    if (beam > 1)
      for (auto& hyps : beam_search(model, t, b, BeamOptions{beam, max_len, 1.0})) best.push_back(std::move(hyps.front()));
    else
      best = greedy_decode(model, t, b, max_len);
    for (size_t i = 0; i < best.size(); ++i)
      if (limit <= 0 || r.words < limit) r.add(best[i].tokens, s.refs[static_cast<size_t>(b.index[i])]);
  });
  return r;
}

}  // namespace reel::examples
