#pragma once
/// \file
/// Word lists, one UTF-8 word per line (Debian's /usr/share/dict files), for per-language word
/// generation models whose symbols are code points (data/utf8.h).
///
/// Line rules: an empty line is skipped; every other line must be valid UTF-8 and one word, with no
/// space, tab or other control character (bytes 0x00-0x20, 0x7F); anything else throws DataError
/// "path:line: what, expected ...". Lines are at most 1 MiB (LineReader::kMaxLine).
///
/// Then, in this order, each word is:
///  1. dropped if drop_apostrophes and it contains an apostrophe, ASCII ' (U+0027) or the
///     typographic ’ (U+2019). In american-english 29,497 of the 29,590 such words are
///     possessives ("zygote's"), the word before them plus "'s": kept, 28% of a generation
///     model's training words would end in the same suffix; the other 93 are contractions
///     and names ("can't", "O'Brien"). The rule is the same in every language, so it also drops
///     French elisions and compounds such as "aujourd'hui" and "chef-d'oeuvre" (180 of 346,205
///     french lines); ngerman and spanish have none;
///  2. ASCII-lower-cased if lowercase (as Vocab does: A-Z only; every byte >= 0x80 is left alone so
///     UTF-8 is never mangled, which also means non-ASCII capitals such as the 'Ä' of ngerman's
///     "Äbte" stay upper-case);
///  3. dropped if dedupe and an equal word (after 2.) came earlier: the first is kept, in file
///     order ("Bill" and "bill" are one word with lowercase).
///
/// Splits: a word belongs to split_of(word) (data/split.h), the word as returned (lower-cased if
/// lowercase is on), the same rule as CMUdict's and tools/splits.py's.
#include <cstdint>
#include <string>
#include <vector>

#include "data/split.h"

namespace reel {

/// How read_wordlist filters and normalizes the words (steps 1-3 above).
struct WordListOptions {
  bool drop_apostrophes = true;  ///< step 1: drop words containing ' or ’
  bool lowercase = false;        ///< step 2: ASCII lower-casing
  bool dedupe = true;            ///< step 3: keep the first of equal words
};

/// A language's word list: its name, where Debian installs it and the package that does.
struct LanguageFile {
  const char* language;  ///< "en", "fr", "de" or "es"
  const char* path;      ///< e.g. "/usr/share/dict/american-english"
  const char* package;   ///< the Debian package, e.g. "wamerican"
};

/// The four languages: en (wamerican), fr (wfrench), de (wngerman), es (wspanish).
const std::vector<LanguageFile>& language_files();
/// The path of language's word list; throws UsageError naming the known languages if there is none.
std::string language_file(const std::string& language);

/// Reads a word list (plain or .gz) by the rules above; throws DataError naming the file and line
/// on invalid UTF-8 or a line that is not one word.
std::vector<std::string> read_wordlist(const std::string& path, const WordListOptions& options = {});
/// read_wordlist(language_file(language), options).
std::vector<std::string> read_language(const std::string& language, const WordListOptions& options = {});

}  // namespace reel
