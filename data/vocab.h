#pragma once
/// \file
/// A word vocabulary: id 0 is `<pad>`, id 1 is `<unk>`, then the words seen at least min_count
/// times, by descending count and, among equal counts, lexicographically (byte order), so the
/// same corpus always gives the same ids. With lowercase on, words are ASCII-lower-cased both when
/// counting and when looked up.
///
/// File format (save/load): a first line "reel-vocab v1 lowercase=0|1", then one word per line in
/// id order, starting with `<pad>` and `<unk>`; line k + 2 holds the word of id k.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace reel {

/// Words to ids and back, with the reserved ids kPad and kUnk (see the file description).
class Vocab {
 public:
  static constexpr int64_t kPad = 0;  ///< the id of padding
  static constexpr int64_t kUnk = 1;  ///< the id of every word not in the vocabulary
  static constexpr const char* kPadWord = "<pad>";  ///< the word of kPad
  static constexpr const char* kUnkWord = "<unk>";  ///< the word of kUnk

  /// Only `<pad>` and `<unk>`.
  explicit Vocab(bool lowercase = false);

  /// From word counts: words with count >= min_count get ids (min_count <= 1 keeps every word).
  /// With lowercase, counts of words that lower-case alike are merged first. The reserved words
  /// `<pad>` and `<unk>` are never given a second id.
  static Vocab from_counts(const std::unordered_map<std::string, int64_t>& counts,
                           int64_t min_count, bool lowercase = false);
  /// Counts the words of sentences, then as from_counts.
  static Vocab from_sentences(const std::vector<std::vector<std::string>>& sentences,
                              int64_t min_count, bool lowercase = false);
  /// From a full word list in id order, as words() returns it (e.g. from a checkpoint).
  /// Throws UsageError unless it starts with `<pad>`, `<unk>` and has no duplicates or empty words.
  static Vocab from_words(const std::vector<std::string>& words, bool lowercase = false);

  /// Id of word (lower-cased first if lowercase()), kUnk if it is not in the vocabulary.
  int64_t id(const std::string& word) const;
  std::vector<int64_t> ids(const std::vector<std::string>& words) const;  ///< id() of each word
  /// The word with this id; throws UsageError if id is out of [0, size()).
  const std::string& word(int64_t id) const;
  /// Whether word (normalised as id() does) has an id of its own
  bool contains(const std::string& word) const;
  /// Number of ids, the two reserved ones included
  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  bool lowercase() const { return lowercase_; }  ///< whether words are lower-cased when counted and looked up
  /// All words in id order, `<pad>` and `<unk>` first.
  std::vector<std::string> words() const { return words_; }

  /// Writes the text format above; throws DataError naming path if it cannot be written.
  void save(const std::string& path) const;
  /// Reads the text format above (plain or gzip); throws DataError "path:line: ..." if malformed.
  static Vocab load(const std::string& path);

 private:
  std::string normalize(const std::string& word) const;
  void add(const std::string& word);
  bool lowercase_ = false;
  std::vector<std::string> words_;
  std::unordered_map<std::string, int64_t> index_;
};

/// ASCII lower-casing (bytes >= 0x80, i.e. UTF-8 sequences, are left as they are).
std::string ascii_lower(const std::string& s);

}  // namespace reel
