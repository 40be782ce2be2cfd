// The generation examples end to end, on the real data at toy sizes: train_g2p (checkpoints, an
// interrupted run resumed to the same result), g2p (words from arguments and stdin, bad input),
// train_generator and generate (reproducible from the seed), output_strategies.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "data/cmudict.h"
#include "tests/build_info.h"
#include "tests/example_runner.h"

namespace fs = std::filesystem;
using reel::testing::cache_value;
using reel::testing::Run;
using reel::testing::run;

namespace {

bool examples_built() {
  const std::string built = cache_value("REEL_BUILD_EXAMPLES");
  return !(built == "OFF" || built == "0" || built == "FALSE");
}

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("reel-gen-" + name + "." + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string json_line(const std::string& out) {
  const size_t p = out.rfind("\n{\"");
  return p == std::string::npos ? (out.rfind("{\"", 0) == 0 ? out : "") : out.substr(p + 1);
}

std::string field(const std::string& json, const std::string& key) {
  const size_t p = json.find("\"" + key + "\":");
  if (p == std::string::npos) return "";
  const size_t b = p + key.size() + 3;
  return json.substr(b, json.find_first_of(",}", b) - b);
}

const fs::path bin = fs::path(REEL_BINARY_DIR) / "examples";

}  // namespace

TEST_CASE("train_g2p trains, checkpoints, resumes to the same result; g2p transcribes", "[examples][g2p]") {
  if (!examples_built()) return;
  if (!fs::exists(reel::kCmudictPath)) {
    WARN("no " << reel::kCmudictPath << " (Debian pocketsphinx-en-us): skipped");
    return;
  }
  const fs::path dir = scratch("g2p");
  const std::string common = "--limit 1500 --hidden 24 --embed 12 --eval-limit 200 --beam 3 --attention --bidirectional --cell gru";
  const Run full = run(bin / "train_g2p", common + " --epochs 2 --checkpoint full/g2p.h5", dir, 300);
  INFO("stderr:\n" << full.err);
  REQUIRE(full.code == 0);
  const std::string a = json_line(full.out);
  CHECK(field(a, "task") == "\"cmudict_g2p\"");
  CHECK(field(a, "test_words") == "200");
  const double per = std::stod(field(a, "test_per_greedy"));  // at this toy size words are rarely all right
  CHECK(per > 0.0);
  CHECK(per < 0.95);
  // Stopped after epoch 1, resumed: the same numbers, digit for digit.
  REQUIRE(run(bin / "train_g2p", common + " --epochs 1 --checkpoint part/g2p.h5", dir, 300).code == 0);
  const Run resumed = run(bin / "train_g2p", common + " --epochs 2 --checkpoint part/g2p.h5 --resume latest", dir, 300);
  INFO("stderr:\n" << resumed.err);
  REQUIRE(resumed.code == 0);
  const std::string b = json_line(resumed.out);
  for (const char* k : {"test_wer_greedy", "test_per_greedy", "test_wer_beam", "test_per_beam", "dev_word_accuracy"}) {
    INFO(k);
    CHECK(field(a, k) == field(b, k));
  }
  // g2p: words as arguments, and one per line on stdin.
  const Run g = run(bin / "g2p", "full/g2p.best.h5 hello world --beam 3 --nbest 2", dir);
  INFO("g2p stderr:\n" << g.err);
  REQUIRE(g.code == 0);
  CHECK(g.out.rfind("hello\t", 0) == 0);
  CHECK(g.out.find("\nworld\t") != std::string::npos);
  CHECK(field(json_line(g.out), "words") == "2");
  const Run upper = run(bin / "g2p", "full/g2p.best.h5 HeLLo", dir);  // the dictionary is lower case: so is the input
  CHECK(upper.code == 0);
  CHECK(upper.out.rfind("HeLLo\t", 0) == 0);
  std::ofstream(dir / "words.txt") << "reel\ntape\n";
  const Run s = run(bin / "g2p", "--model full/g2p.best.h5", dir, 60, (dir / "words.txt").string());
  CHECK(s.code == 0);
  CHECK(s.out.find("tape\t") != std::string::npos);
  // Bad input: a symbol the model never saw, a model of another kind, --nbest above --beam.
  const Run bad = run(bin / "g2p", "full/g2p.best.h5 hel~lo", dir);
  CHECK(bad.code == 2);
  CHECK(bad.err.find("unknown symbol '~'") != std::string::npos);
  CHECK(run(bin / "g2p", "full/g2p.best.h5 hello --nbest 4 --beam 2", dir).code == 2);
  const Run other = run(bin / "generate", "full/g2p.best.h5", dir);
  CHECK(other.code == 2);
  CHECK(other.err.find("a seq2seq checkpoint; this program needs a generator checkpoint") != std::string::npos);
  const Run inspect = run(bin / "inspect", "full/g2p.best.h5", dir);
  CHECK(inspect.out.find("model: seq2seq: ") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("train_generator trains and samples; generate is reproducible from its seed", "[examples][generator]") {
  if (!examples_built()) return;
  if (!fs::exists("/usr/share/dict/american-english") || !fs::exists("/usr/share/dict/spanish")) {
    WARN("no Debian word lists (wamerican, wspanish): skipped");
    return;
  }
  const fs::path dir = scratch("words");
  const Run t = run(bin / "train_generator", "--languages en,es --per-language 600 --epochs 2 --hidden 24 --samples 50 --checkpoint w.h5", dir, 300);
  INFO("stderr:\n" << t.err);
  REQUIRE(t.code == 0);
  const std::string j = json_line(t.out);
  const double bpc = std::stod(field(j, "test_bits_per_char"));
  CHECK(bpc > 1.0);
  CHECK(bpc < 6.0);
  CHECK(!field(j, "es_novel_real").empty());
  const Run a = run(bin / "generate", "w.best.h5 --language es --count 20 --seed 4 --temperature 0.8", dir);
  const Run b = run(bin / "generate", "w.best.h5 --language es --count 20 --seed 4 --temperature 0.8", dir);
  const Run c = run(bin / "generate", "w.best.h5 --language es --count 20 --seed 5 --temperature 0.8", dir);
  INFO("generate stderr:\n" << a.err);
  REQUIRE(a.code == 0);
  CHECK(a.out == b.out);
  CHECK(a.out != c.out);
  CHECK(field(json_line(a.out), "words") == "20");
  const Run bad = run(bin / "generate", "w.best.h5 --language fr", dir);
  CHECK(bad.code == 2);
  CHECK(bad.err.find("not one of the model's languages (en, es)") != std::string::npos);
  CHECK(run(bin / "g2p", "w.best.h5 hello", dir).err.find("a generator checkpoint; this program needs a seq2seq") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("output_strategies prints the reference's four strategies and their shapes", "[examples]") {
  if (!examples_built()) return;
  const fs::path dir = scratch("strategies");
  for (const char* cell : {"rnn", "lstm", "gru"}) {
    const Run r = run(bin / "output_strategies", std::string("--cell ") + cell, dir);
    INFO(cell << " stderr:\n" << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("Many-to-One (sequence classification):\n  Input shape: (2, 10, 8)\n  Output shape: (2, 3)") != std::string::npos);
    CHECK(r.out.find("Output shape: (2, 10, 3)") != std::string::npos);
    CHECK(r.out.find("Teacher-forced output shape: (2, 8, 100)") != std::string::npos);
    CHECK(r.out.find("Context shape: (2, 64)") != std::string::npos);
    CHECK(field(json_line(r.out), "encoder_decoder") == "[2");
  }
  fs::remove_all(dir);
}
