#pragma once
/// \file
/// The CMU Pronouncing Dictionary (CMUdict), plain or gzip-compressed, for grapheme-to-phoneme
/// models. Two editions are read by the same rules:
///
///  * Debian's pocketsphinx-en-us, kCmudictPath: lower-case words, no stress digits,
///    "word PH1 PH2 ...", alternates "word(2) ...", "word(3) ...";
///  * cmudict-0.7b (as festlex and the CMU site ship it): upper-case words, stress digits
///    ("AH0", "EY1"), two spaces after the word, alternates "WORD(1) ...", ";;;" comment lines.
///
/// Line rules:
///  * a line starting with ";;;" is a comment; an empty (or all spaces / tabs) line is skipped;
///  * otherwise the line is WORD, then one or more phones, separated by runs of spaces or tabs; a
///    field starting with '#' after the word ends the line (a trailing comment, as in the GitHub
///    cmudict.dict);
///  * WORD is any bytes other than space and tab, taken as they are (0.7b's punctuation headwords
///    such as "(PAREN" and "#SHARP-SIGN" are words);
///  * a WORD ending in ')' is an alternate BASE(N): BASE non-empty, N a positive integer without
///    leading zeros; a WORD ending in '(' and digits ("a(2", "a(") is an unclosed marker. The
///    number is only a marker: a word's pronunciations are kept in file order, whatever their
///    numbers, and an alternate is attached to BASE even where other words come between them (the
///    Debian file sorts "a's" between "a" and "a(2)"), or before BASE's own line;
///  * a phone is one or more of [A-Z0-9]; with strip_stress its trailing digits are removed
///    ("AH0" -> "AH"), and something must be left;
///  * a line is at most 1 MiB (LineReader::kMaxLine).
///
/// Anything else throws DataError "path:line: what, expected ...": no phones, an empty word (the
/// line starts with a space), "a(x)", "a(0)", "a(2" or "(2)", a phone such as "ah" or "AH-",
/// an over-long line.
///
/// A pronunciation equal to an earlier one of the same word (after stress stripping, if on) is
/// dropped and counted (duplicates()): two alternates that differ only in stress are one
/// pronunciation once it is stripped. The Debian file has no duplicates.
///
/// Splits: a word and all its pronunciations belong to split_of(word) (data/split.h), word being
/// the base word as stored (lower-cased if lowercase is on).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/split.h"

namespace reel {

/// Where Debian's pocketsphinx-en-us installs CMUdict (no stress digits, 134,723 lines).
inline constexpr const char* kCmudictPath = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";

/// One pronunciation: a word (the base word, without "(2)") and its phones.
struct Pronunciation {
  std::string word;                 ///< the headword, without an alternate marker
  std::vector<std::string> phones;  ///< ARPAbet phones, e.g. {"AH", "B", "AW", "T"}
};

/// How read_cmudict treats what it reads.
struct CmuDictOptions {
  /// Remove the stress digits from phones ("AH0" -> "AH"), which makes 0.7b's phone set the
  /// Debian file's 39 phones.
  bool strip_stress = false;
  /// ASCII-lower-case the words (0.7b's "ABOUT" -> "about", as in the Debian file) before
  /// grouping and splitting; other bytes are left as they are.
  bool lowercase = false;
};

/// Every pronunciation of one word, in file order.
struct CmuEntry {
  std::string word;                            ///< the base word
  std::vector<Pronunciation> pronunciations;   ///< at least one; each has .word == word
};

/// A pronunciation dictionary: words in order of first appearance, each with its pronunciations.
class CmuDict {
 public:
  /// Adds p to its word's entry (creating the entry at the end if the word is new). Returns false,
  /// and counts a duplicate, if the word already has a pronunciation with the same phones.
  bool add(Pronunciation p);

  /// The words, in order of first appearance.
  const std::vector<CmuEntry>& entries() const { return entries_; }
  /// The entry of word, or nullptr if it is not in the dictionary.
  const CmuEntry* find(const std::string& word) const;
  /// Number of distinct words.
  int64_t num_words() const { return static_cast<int64_t>(entries_.size()); }
  /// Number of pronunciations over all words.
  int64_t num_pronunciations() const { return num_pronunciations_; }
  /// Pronunciations dropped by add as duplicates of an earlier one of the same word.
  int64_t duplicates() const { return duplicates_; }

  /// The entries of the words in split (split_of(word) == split), in order.
  std::vector<CmuEntry> entries(Split split) const;
  /// Every pronunciation of the words in split, entry by entry.
  std::vector<Pronunciation> pronunciations(Split split) const;
  /// Words per split.
  SplitCounts word_counts() const;
  /// Pronunciations per split.
  SplitCounts pronunciation_counts() const;
  /// The distinct phones used, sorted (byte order).
  std::vector<std::string> phone_set() const;

 private:
  std::vector<CmuEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
  int64_t num_pronunciations_ = 0;
  int64_t duplicates_ = 0;
};

/// Reads a CMUdict file (plain or .gz) by the rules above; throws DataError naming the file and
/// line on anything malformed.
CmuDict read_cmudict(const std::string& path, const CmuDictOptions& options = {});

}  // namespace reel
