#include "data/vocab_io.h"

namespace reel {

AttributeGroup vocab_group(const Vocab& vocab) {
  AttributeGroup g;
  g.set_origin("", kVocabGroup);
  g.set_strings("words", vocab.words());
  g.set("size", vocab.size());
  g.set("lowercase", static_cast<int64_t>(vocab.lowercase()));
  return g;
}

Vocab vocab_from_group(const AttributeGroup& g) {
  const std::string where = (g.file().empty() ? "" : g.file() + ": ") + "/" + g.name() + "/words";
  if (!g.has_strings("words"))
    throw CheckpointError(where + " is missing: expected the vocabulary's words as a 1-d uint8 dataset (UTF-8, joined by newlines)");
  const std::vector<std::string>& words = g.get_strings("words");
  const int64_t size = g.get_int("size");
  if (size != static_cast<int64_t>(words.size()))
    throw CheckpointError(where + " holds " + std::to_string(words.size()) + " words, its size attribute says " + std::to_string(size));
  const bool lower = g.has("lowercase") && g.get_int("lowercase") != 0;
  try {
    return Vocab::from_words(words, lower);
  } catch (const std::exception& e) {
    throw CheckpointError(where + " is not a valid vocabulary: " + e.what());
  }
}

std::optional<Vocab> vocab_of(const CheckpointMeta& meta) {
  const AttributeGroup* g = meta.find(kVocabGroup);
  if (!g) return std::nullopt;
  return vocab_from_group(*g);
}

std::optional<Vocab> read_vocab(const std::string& path) { return vocab_of(read_checkpoint_meta(path)); }

}  // namespace reel
