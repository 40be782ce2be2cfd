#pragma once
/// \file
/// A vocabulary in a checkpoint, as the attribute group "vocab" (framework/checkpoint.h):
///
/// \code{.unparsed}
///   string list "words"   the words in id order, <pad> and <unk> first (1-d uint8, UTF-8, joined by '\n')
///   int64 "size"          the word count (checked against the list)
///   int64 "lowercase"     0/1, Vocab::lowercase()
///
///   save_checkpoint(path, store, &opt, state, {{kVocabGroup, vocab_group(vocab)}, ...});
///   std::optional<Vocab> v = read_vocab(path);
/// \endcode
#include <optional>
#include <string>

#include "data/vocab.h"
#include "framework/checkpoint.h"

namespace reel {

/// The name of the vocabulary's attribute group in a checkpoint.
inline constexpr const char* kVocabGroup = "vocab";

/// The vocabulary as the "vocab" attribute group (layout above), for save_checkpoint's groups.
AttributeGroup vocab_group(const Vocab& vocab);
/// Throws CheckpointError naming the file and group unless g holds a valid vocabulary.
Vocab vocab_from_group(const AttributeGroup& g);
/// The file's vocabulary; nullopt if it was saved without one.
std::optional<Vocab> vocab_of(const CheckpointMeta& meta);
/// The vocabulary of the checkpoint at path (vocab_of(read_checkpoint_meta(path))): nullopt if it
/// has none; throws CheckpointError if the file cannot be read or its group is malformed.
std::optional<Vocab> read_vocab(const std::string& path);

}  // namespace reel
