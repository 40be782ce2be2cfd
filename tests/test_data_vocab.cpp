// Vocab: reserved ids, min_count, ordering, lower-casing, save/load.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/data_test_util.h"
#include <filesystem>
#include <fstream>
#include <string>

#include "data/data_error.h"
#include "data/vocab.h"
#include "framework/error.h"

using namespace reel;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using reel::testing::TempDir;

const std::vector<std::vector<std::string>> kCorpus = {
    {"the", "cat", "sat", "on", "the", "mat"},
    {"The", "dog", "sat", "."},
    {"a", "cat", "and", "a", "dog", "."},
};

}  // namespace

TEST_CASE("Vocab reserves <pad> = 0 and <unk> = 1", "[data][vocab]") {
  const Vocab empty;
  CHECK(empty.size() == 2);
  CHECK(empty.word(Vocab::kPad) == "<pad>");
  CHECK(empty.word(Vocab::kUnk) == "<unk>");
  CHECK(empty.id("anything") == Vocab::kUnk);
  CHECK_THROWS_AS(empty.word(2), UsageError);
  CHECK_THROWS_AS(empty.word(-1), UsageError);

  const Vocab v = Vocab::from_sentences(kCorpus, 1);
  CHECK(v.id("<pad>") == 0);
  CHECK(v.id("<unk>") == 1);
  CHECK(v.id("zebra") == Vocab::kUnk);
  CHECK_FALSE(v.contains("zebra"));
}

TEST_CASE("Vocab orders by count, then lexicographically, and applies min_count", "[data][vocab]") {
  // Counts (case-sensitive): the 2, cat 2, sat 2, dog 2, . 2, a 2, on 1, mat 1, The 1, and 1.
  const Vocab all = Vocab::from_sentences(kCorpus, 1);
  CHECK(all.words() == std::vector<std::string>{"<pad>", "<unk>", ".", "a", "cat", "dog", "sat",
                                                "the", "The", "and", "mat", "on"});
  for (int64_t i = 0; i < all.size(); ++i) CHECK(all.id(all.word(i)) == i);

  const Vocab frequent = Vocab::from_sentences(kCorpus, 2);
  CHECK(frequent.size() == 2 + 6);
  CHECK(frequent.id("mat") == Vocab::kUnk);
  CHECK(frequent.id("The") == Vocab::kUnk);
  CHECK(frequent.id("cat") == 4);
  CHECK(frequent.ids({"a", "mat", "dog"}) == std::vector<int64_t>{3, 1, 5});

  CHECK(Vocab::from_sentences(kCorpus, 3).size() == 2);

  // Determinism does not depend on the hash map's iteration order.
  std::unordered_map<std::string, int64_t> counts = {{"b", 5}, {"a", 5}, {"c", 9}, {"<unk>", 100}};
  CHECK(Vocab::from_counts(counts, 1).words() == std::vector<std::string>{"<pad>", "<unk>", "c", "a", "b"});
}

TEST_CASE("Vocab lower-cases when asked", "[data][vocab]") {
  const Vocab v = Vocab::from_sentences(kCorpus, 3, /*lowercase=*/true);  // the + The = 3
  CHECK(v.lowercase());
  CHECK(v.words() == std::vector<std::string>{"<pad>", "<unk>", "the"});
  CHECK(v.id("THE") == 2);
  CHECK(v.id("The") == 2);
  CHECK(v.id("cat") == Vocab::kUnk);
  CHECK(ascii_lower("\xC3\x89" "COLE") == "\xC3\x89" "cole");  // UTF-8 bytes are left alone
  CHECK(ascii_lower("MiXeD-123") == "mixed-123");
}

TEST_CASE("Vocab save/load roundtrip and load errors", "[data][vocab]") {
  TempDir tmp("vocab");
  for (bool lower : {false, true}) {
    const Vocab v = Vocab::from_sentences(kCorpus, 1, lower);
    const std::string path = tmp.file(lower ? "lower.vocab" : "cased.vocab");
    v.save(path);
    const Vocab back = Vocab::load(path);
    CHECK(back.words() == v.words());
    CHECK(back.lowercase() == lower);
    CHECK(back.id("The") == v.id("The"));
    const Vocab from_list = Vocab::from_words(v.words(), lower);
    CHECK(from_list.words() == v.words());
  }
  auto load_error = [&](const std::string& name, const std::string& text) {
    const std::string path = tmp.file(name);
    std::ofstream(path, std::ios::binary) << text;
    try {
      Vocab::load(path);
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    FAIL("expected a DataError for " << name);
    return std::string();
  };
  CHECK_THAT(load_error("header.vocab", "<pad>\n<unk>\n"), Contains("header.vocab:1:"));
  CHECK_THAT(load_error("pad.vocab", "reel-vocab v1 lowercase=0\n<unk>\n<pad>\n"), Contains("pad.vocab:2:"));
  CHECK_THAT(load_error("dup.vocab", "reel-vocab v1 lowercase=0\n<pad>\n<unk>\ncat\ndog\ncat\n"),
             Contains("dup.vocab:6: duplicate word"));
  CHECK_THAT(load_error("blank.vocab", "reel-vocab v1 lowercase=0\n<pad>\n<unk>\n\n"), Contains("blank.vocab:4:"));
  CHECK_THROWS_AS(Vocab::load(tmp.file("absent.vocab")), DataError);
  CHECK_THROWS_AS(Vocab::from_words({"cat"}), UsageError);
  CHECK_THROWS_AS(Vocab::from_words({"<pad>", "<unk>", "a", "a"}), UsageError);
}
