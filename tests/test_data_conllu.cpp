// CoNLL-U reading: comments, multiword tokens, empty nodes, gzip, errors, and the shipped EWT data.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include "tests/data_test_util.h"
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "data/conllu.h"
#include "data/data_error.h"

using namespace reel;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using reel::testing::TempDir;
using reel::testing::write_text;


using reel::testing::data_error_message;

// Two sentences: the first with a multiword token (2-3) and an empty node (4.1); the second
// without a final blank line.
const char* kSample =
    "# newdoc id = test\n"
    "# sent_id = 1\n"
    "# text = I don't know.\n"
    "1\tI\tI\tPRON\tPRP\t_\t4\tnsubj\t_\t_\n"
    "2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "2\tdo\tdo\tAUX\tVBP\t_\t4\taux\t_\t_\n"
    "3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_\n"
    "4\tknow\tknow\tVERB\tVB\t_\t0\troot\t_\t_\n"
    "4.1\tknow\tknow\tVERB\tVB\t_\t_\t_\t4:conj\t_\n"
    "5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_\n"
    "\n"
    "# sent_id = 2\n"
    "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n"
    "2\tthere\tthere\tADV\tRB\t_\t1\tadvmod\t_\tSpaceAfter=No\n";

void check_sample(const std::vector<Sentence>& s) {
  REQUIRE(s.size() == 2);
  CHECK(s[0].words == std::vector<std::string>{"I", "do", "n't", "know", "."});
  CHECK(s[0].upos == std::vector<std::string>{"PRON", "AUX", "PART", "VERB", "PUNCT"});
  CHECK(s[1].words == std::vector<std::string>{"Hi", "there"});
  CHECK(s[1].upos == std::vector<std::string>{"INTJ", "ADV"});
}

}  // namespace

TEST_CASE("upos_tags lists the 17 UD tags", "[data][conllu]") {
  const auto& tags = upos_tags();
  REQUIRE(tags.size() == 17);
  CHECK(tags.front() == "ADJ");
  CHECK(tags.back() == "X");
  CHECK(upos_index("NOUN") == 7);
  CHECK(upos_index("X") == 16);
  CHECK(upos_index("noun") == -1);
  CHECK(upos_index("_") == -1);
  for (size_t i = 0; i < tags.size(); ++i) CHECK(upos_index(tags[i]) == static_cast<int64_t>(i));
}

TEST_CASE("read_conllu skips comments, multiword tokens and empty nodes", "[data][conllu]") {
  TempDir tmp("conllu_sample");
  check_sample(read_conllu(write_text(tmp.file("s.conllu"), kSample)));
  check_sample(read_conllu(write_text(tmp.file("s.conllu.gz"), kSample, true)));
  // Windows line endings and several blank lines between sentences.
  std::string crlf;
  for (const char* p = kSample; *p != '\0'; ++p) {
    if (*p == '\n') crlf += '\r';
    crlf += *p;
  }
  check_sample(read_conllu(write_text(tmp.file("crlf.conllu"), "\n\n" + crlf + "\n\n\n")));
  CHECK(read_conllu(write_text(tmp.file("empty.conllu"), "# only a comment\n\n")).empty());
}

TEST_CASE("read_conllu errors name the file and the line", "[data][conllu]") {
  TempDir tmp("conllu_errors");
  const std::string bad_fields = write_text(
      tmp.file("fields.conllu"),
      "# sent_id = 1\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n2\tthere\tthere\tADV\tRB\t_\t1\tadvmod\t_\n");
  std::string msg = data_error_message([&] { read_conllu(bad_fields); });
  CHECK_THAT(msg, Contains(bad_fields + ":3:"));
  CHECK_THAT(msg, Contains("expected 10 tab-separated fields, got 9"));

  const std::string spaces = write_text(tmp.file("spaces.conllu"), "1 Hi hi INTJ UH _ 0 root _ _\n");
  msg = data_error_message([&] { read_conllu(spaces); });
  CHECK_THAT(msg, Contains(spaces + ":1:"));
  CHECK_THAT(msg, Contains("got 1"));

  const std::string bad_tag = write_text(
      tmp.file("tag.conllu"),
      "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n\n# c\n1\tfoo\tfoo\tFOO\tNN\t_\t0\troot\t_\t_\n");
  msg = data_error_message([&] { read_conllu(bad_tag); });
  CHECK_THAT(msg, Contains(bad_tag + ":4:"));
  CHECK_THAT(msg, Contains("unknown UPOS tag 'FOO'"));

  const std::string bad_id = write_text(
      tmp.file("id.conllu"), "1\ta\ta\tDET\tDT\t_\t0\troot\t_\t_\n3\tb\tb\tNOUN\tNN\t_\t1\tdep\t_\t_\n");
  CHECK_THAT(data_error_message([&] { read_conllu(bad_id); }), Contains(bad_id + ":2: expected token ID 2, got 3"));

  const std::string word_id = write_text(tmp.file("word.conllu"), "x\ta\ta\tDET\tDT\t_\t0\troot\t_\t_\n");
  CHECK_THAT(data_error_message([&] { read_conllu(word_id); }), Contains(word_id + ":1:"));

  // A gzip stream cut in the middle: the reader must not silently return a partial corpus.
  std::string big;
  for (int i = 0; i < 400; ++i) big += std::string(kSample) + "\n";
  const std::string whole = write_text(tmp.file("whole.conllu.gz"), big, true);
  std::vector<char> gz(fs::file_size(whole));
  std::ifstream(whole, std::ios::binary).read(gz.data(), static_cast<std::streamsize>(gz.size()));
  const std::string cut = tmp.file("cut.conllu.gz");
  std::ofstream(cut, std::ios::binary).write(gz.data(), static_cast<std::streamsize>(gz.size() / 2));
  CHECK(read_conllu(whole).size() == 800u);
  CHECK_THAT(data_error_message([&] { read_conllu(cut); }), Contains(cut));

  const std::string missing = tmp.file("absent.conllu");
  CHECK_THAT(data_error_message([&] { read_conllu(missing); }), Contains(missing));

  // Multiword ranges and empty nodes must be well formed too, not skipped on sight of '-' or '.'.
  for (const char* id : {"1.x", "3-x", "a.1", "2-1", "-3", "4."}) {
    const std::string f = write_text(tmp.file("badid.conllu"), std::string("1\ta\ta\tDET\tDT\t_\t0\troot\t_\t_\n") + id +
                                                                   "\tb\tb\tNOUN\tNN\t_\t1\tdep\t_\t_\n");
    INFO(id);
    CHECK_THAT(data_error_message([&] { read_conllu(f); }), Contains(f + ":2: malformed token ID '" + id + "'"));
  }
  // A line of 2 MiB (a gzip bomb of one line would be 1 GiB): refused with the limit, nothing kept.
  const std::string long_line = write_text(tmp.file("long.conllu.gz"), std::string(2 << 20, 'a') + "\n", true);
  CHECK_THAT(data_error_message([&] { read_conllu(long_line); }), Contains(long_line) && Contains("a line longer than 1048576 bytes"));
}

TEST_CASE("the shipped UD English EWT files parse", "[data][conllu]") {
  const std::string dir = std::string(REEL_SOURCE_DIR) + "/data/ud-english-ewt/";
  struct Split {
    const char* name;
    size_t min_sentences, max_sentences;
    int64_t min_tokens, max_tokens;
  };
  // EWT in UD 2.x: train ~12.5k sentences / ~204k tokens, dev and test ~2k / ~25k.
  for (const Split& sp : {Split{"dev", 1900, 2100, 24000, 26500}, Split{"test", 1950, 2200, 24000, 26500},
                          Split{"train", 12000, 13000, 195000, 215000}}) {
    const std::string path = dir + "en_ewt-ud-" + sp.name + ".conllu.gz";
    const std::vector<Sentence> sents = read_conllu(path);
    int64_t tokens = 0;
    size_t longest = 0;
    for (const Sentence& s : sents) {
      REQUIRE(s.words.size() == s.upos.size());
      REQUIRE(!s.words.empty());
      tokens += static_cast<int64_t>(s.words.size());
      longest = std::max(longest, s.words.size());
    }
    std::cout << "UD English EWT " << sp.name << ": " << sents.size() << " sentences, " << tokens
              << " tokens, longest " << longest << "\n";
    CHECK(sents.size() >= sp.min_sentences);
    CHECK(sents.size() <= sp.max_sentences);
    CHECK(tokens >= sp.min_tokens);
    CHECK(tokens <= sp.max_tokens);
  }
}
