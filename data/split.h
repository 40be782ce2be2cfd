#pragma once
/// \file
/// A deterministic train / dev / test split of words by a hash of their bytes, so every program
/// (C++ here, Python in tools/splits.py) puts each word in the same split without a split file:
///
///  1. h = FNV-1a 64-bit of the word's bytes (UTF-8 as stored; for CMUdict the base word, without
///     an alternate marker such as "(2)", so all pronunciations of a word share a split):
///     h = 14695981039346656037 (0xcbf29ce484222325); for each byte b: h = (h XOR b) * 1099511628211
///     (0x100000001b3) modulo 2^64;
///  2. bucket = h % 100;
///  3. buckets 0-89 are Train, 90-94 Dev, 95-99 Test.
///
/// In Python: `h = 0xcbf29ce484222325; for b in word.encode(): h = ((h ^ b) * 0x100000001b3) &
/// 0xffffffffffffffff`. Examples: fnv1a64("a") = 0xaf63dc4c8601ec8c, bucket 96, Test;
/// fnv1a64("aaron") = 0x85632f274106b5fa, bucket 90, Dev.
/// The word is hashed exactly as given (no case folding or trimming): callers that lower-case do it
/// first, and the hash is of the lower-cased word.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reel {

/// Which part of a dataset a word belongs to.
enum class Split { Train, Dev, Test };

/// FNV-1a 64-bit hash of the bytes of s (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t fnv1a64(std::string_view s);
/// fnv1a64(word) % 100, in [0, 100).
int split_bucket(std::string_view word);
/// The split of word by the rule above: bucket 0-89 Train, 90-94 Dev, 95-99 Test.
Split split_of(const std::string& word);
/// "train", "dev" or "test".
const char* split_name(Split split);

/// How many items fall in each split.
struct SplitCounts {
  int64_t train = 0;  ///< items in Split::Train
  int64_t dev = 0;    ///< items in Split::Dev
  int64_t test = 0;   ///< items in Split::Test
  /// Adds n items to split's count.
  void add(Split split, int64_t n = 1);
  /// The count of split.
  int64_t of(Split split) const;
  /// train + dev + test.
  int64_t total() const { return train + dev + test; }
};

/// How many of words fall in each split (each occurrence counts; dedupe first if needed).
SplitCounts count_splits(const std::vector<std::string>& words);
/// The words whose split_of is split, in their order.
std::vector<std::string> words_in(const std::vector<std::string>& words, Split split);

}  // namespace reel
