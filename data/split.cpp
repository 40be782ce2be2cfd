#include "data/split.h"

namespace reel {

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

int split_bucket(std::string_view word) { return static_cast<int>(fnv1a64(word) % 100); }

Split split_of(const std::string& word) {
  const int bucket = split_bucket(word);
  if (bucket < 90) return Split::Train;
  return bucket < 95 ? Split::Dev : Split::Test;
}

const char* split_name(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Dev: return "dev";
    case Split::Test: return "test";
  }
  return "?";
}

void SplitCounts::add(Split split, int64_t n) {
  switch (split) {
    case Split::Train: train += n; break;
    case Split::Dev: dev += n; break;
    case Split::Test: test += n; break;
  }
}

int64_t SplitCounts::of(Split split) const {
  switch (split) {
    case Split::Train: return train;
    case Split::Dev: return dev;
    case Split::Test: return test;
  }
  return 0;
}

SplitCounts count_splits(const std::vector<std::string>& words) {
  SplitCounts c;
  for (const std::string& w : words) c.add(split_of(w));
  return c;
}

std::vector<std::string> words_in(const std::vector<std::string>& words, Split split) {
  std::vector<std::string> out;
  for (const std::string& w : words)
    if (split_of(w) == split) out.push_back(w);
  return out;
}

}  // namespace reel
