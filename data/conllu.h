#pragma once
/// \file
/// CoNLL-U reader (Universal Dependencies), plain or gzip-compressed: keeps each sentence's word
/// forms and UPOS tags, which is what a part-of-speech tagger trains on.
///
///  * lines starting with '#' are comments and are skipped;
///  * multiword token lines (ID a range such as 1-2) and empty nodes (ID such as 8.1) are skipped:
///    the syntactic words under a multiword token carry the tags;
///  * a blank line ends a sentence (a last sentence without one is kept too);
///  * every other line must have 10 tab-separated fields, an integer ID continuing the sentence
///    (1, 2, 3, ...) and one of the 17 UD UPOS tags. Anything else throws DataError
///    "path:line: expected ..., got ...".
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/vocab.h"

namespace reel {

/// One sentence of a CoNLL-U file: its syntactic words and their UPOS tags.
struct Sentence {
  std::vector<std::string> words;  ///< FORM column
  std::vector<std::string> upos;   ///< UPOS column, same length as words
};

/// Reads every sentence of a CoNLL-U file (plain or .gz) by the rules above; throws DataError
/// naming the file and line on anything malformed.
std::vector<Sentence> read_conllu(const std::string& path);

/// The 17 Universal POS tags in the UD documentation's alphabetical order:
/// ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X.
const std::vector<std::string>& upos_tags();
/// Index of tag in upos_tags(), or -1 if it is not a UPOS tag.
int64_t upos_index(const std::string& tag);

/// The FORM column of every sentence (for Vocab::from_sentences).
std::vector<std::vector<std::string>> words_of(const std::vector<Sentence>& sentences);
/// A tagging dataset: each non-empty sentence's word ids (vocab, lower-cased as the vocabulary
/// was built) with its UPOS tag indices. Throws UsageError naming `name` if no sentence is left.
template <class T>
SequenceDataset<T> upos_dataset(const std::string& name, const std::vector<Sentence>& sentences, const Vocab& vocab);

}  // namespace reel
