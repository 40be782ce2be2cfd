// Every program in examples/ answers --help (and -h) with its usage on stdout and exit code 0, and
// an unknown flag with a message on stderr and exit code 2. The programs are the examples/*.cpp
// sources, run from <build>/examples as built by this build (skipped if it has
// REEL_BUILD_EXAMPLES=OFF).
#include <catch2/catch.hpp>

#include "tests/build_info.h"
#include "tests/example_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace fs = std::filesystem;

using reel::testing::cache_value;
using reel::testing::Run;
using reel::testing::run;
using reel::testing::slurp;

TEST_CASE("every example answers --help with its usage on stdout and exit 0", "[examples][cli]") {
  std::set<std::string> programs;
  for (const auto& e : fs::directory_iterator(fs::path(REEL_SOURCE_DIR) / "examples"))
    if (e.path().extension() == ".cpp") programs.insert(e.path().stem().string());
  REQUIRE(programs.count("trace_forward") == 1);
  REQUIRE(programs.count("graph") == 1);
  REQUIRE(programs.size() >= 9);
  const std::string built = cache_value("REEL_BUILD_EXAMPLES");
  if (built == "OFF" || built == "0" || built == "FALSE") {
    WARN("REEL_BUILD_EXAMPLES is off in this build: the examples are not run");
    return;
  }
  const fs::path bin = fs::path(REEL_BINARY_DIR) / "examples";
  // A scratch working directory: a program that ignored --help would write its outputs here.
  const fs::path dir = fs::temp_directory_path() / ("reel-examples-help." + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const std::string& name : programs) {
    const fs::path program = bin / name;
    INFO(program.string());
    REQUIRE(fs::exists(program));
    for (const char* flag : {"--help", "-h"}) {
      INFO(name << " " << flag);
      const Run r = run(program, flag, dir);
      INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
      CHECK(r.code == 0);
      CHECK(r.out.rfind("usage: " + name + " ", 0) == 0);  // the usage, first thing on stdout
      CHECK(r.out.find("--help") != std::string::npos);
      CHECK(r.out.find("{\"") == std::string::npos);        // and no run: no JSON result line
    }
    // A flag it does not know: a message naming it on stderr, exit 2, nothing run.
    const Run bad = run(program, "--no-such-flag", dir);
    INFO("stdout:\n" << bad.out << "\nstderr:\n" << bad.err);
    CHECK(bad.code == 2);
    CHECK(bad.err.find("unknown flag '--no-such-flag'") != std::string::npos);
    CHECK(bad.out.find("{\"") == std::string::npos);
  }
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.insert(e.path().filename().string());
  CHECK(left == std::set<std::string>{"stderr.txt", "stdout.txt"});
  fs::remove_all(dir);
}

TEST_CASE("The training examples find their default data wherever they are started from", "[examples][cli]") {
  const std::string built = cache_value("REEL_BUILD_EXAMPLES");
  if (built == "OFF" || built == "0" || built == "FALSE") return;
  const fs::path tagger = fs::path(REEL_BINARY_DIR) / "examples" / "train_tagger";
  const fs::path dir = fs::temp_directory_path() / ("reel-examples-data." + std::to_string(getpid()));
  fs::create_directories(dir);
  // From a directory with no data/ in it: found beside the build tree the program is in.
  const Run r = run(tagger, "--epochs 1 --hidden 8 --embed 8", dir);
  INFO("stderr:\n" << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("\"task\":\"ud_ewt_upos\"") != std::string::npos);
  // A relative path found nowhere: an error naming every place looked at.
  const Run missing = run(tagger, "--data nowhere/ud-x", dir);
  INFO("stderr:\n" << missing.err);
  CHECK(missing.code == 1);
  CHECK(missing.err.find("--data 'nowhere/ud-x': no such directory; looked in") != std::string::npos);
  CHECK(missing.err.find((dir / "nowhere" / "ud-x").string()) != std::string::npos);
  CHECK(missing.err.find("share/reel/data/ud-x") != std::string::npos);
  CHECK(missing.err.find("REEL_DATA") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("graph unrolls --steps and renders --format; a .pdf name never gets DOT text", "[examples][cli]") {
  const std::string built = cache_value("REEL_BUILD_EXAMPLES");
  if (built == "OFF" || built == "0" || built == "FALSE") return;
  const fs::path graph = fs::path(REEL_BINARY_DIR) / "examples" / "graph";
  const fs::path dir = fs::temp_directory_path() / ("reel-examples-graph." + std::to_string(getpid()));
  fs::create_directories(dir);
  const Run r = run(graph, "--steps 5 --out g.pdf", dir);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("\"timesteps\":5,\"recurrent_edges\":5") != std::string::npos);
  REQUIRE(fs::exists(dir / "g.dot"));
  CHECK(slurp(dir / "g.dot").rfind("digraph", 0) == 0);
  if (r.out.find("\"pdf\":null") == std::string::npos) CHECK(slurp(dir / "g.pdf").rfind("%PDF", 0) == 0);  // Graphviz present
  CHECK(run(graph, "--out g.pdf --format png", dir).code == 2);
  CHECK(run(graph, "--steps 0", dir).code == 2);
  CHECK(run(graph, "--format jpg", dir).code == 2);
  fs::remove_all(dir);
}

TEST_CASE("Numeric flags have ranges checked at parse time; resume refuses contradictions", "[examples][cli]") {
  const std::string built = cache_value("REEL_BUILD_EXAMPLES");
  if (built == "OFF" || built == "0" || built == "FALSE") return;
  const fs::path bin = fs::path(REEL_BINARY_DIR) / "examples";
  const fs::path dir = fs::temp_directory_path() / ("reel-examples-flags." + std::to_string(getpid()));
  fs::create_directories(dir);
  struct Case {
    const char* program;
    const char* args;
    const char* message;
  };
  const Case cases[] = {
      {"train_tagger", "--epochs -1", "--epochs -1: outside the range 1..100000"},
      {"train_tagger", "--epochs 9223372036854775807", "outside the range 1..100000"},
      {"train_tagger", "--epochs 99999999999999999999", "not an integer"},
      {"train_tagger", "--clip nan", "--clip nan: not a finite number"},
      {"train_tagger", "--clip -1", "outside the range 0..1000000000000"},
      {"train_tagger", "--threads -1", "--threads -1: outside the range 1..256"},
      {"train_tagger", "--hidden 9223372036854775807", "--hidden 9223372036854775807: outside the range 1..16384"},
      {"train_tagger", "--lr 1e300", "--lr 1e300: outside the range 1e-12..10"},
      {"train_classifier", "--data /nonexistent", "/nonexistent: Fashion-MNIST directory not found"},
      {"train_classifier", "--limit 0", "the train split holds no sequence"},
      {"train_classifier", "--batch 0", "--batch 0: outside the range 1..1048576"},
      {"long_sequences", "--k1 9223372036854775807", "--k1 9223372036854775807: outside the range 1..1000000"},
      {"long_sequences", "--hidden 0", "--hidden 0: outside the range 1..16384"},
      {"memory_report", "--steps 100,-5", "item '-5' is not an integer in the range 1..1000000"},
      {"memory_report", "--batch 99999999", "outside the range 1..65536"},
      {"profile", "--hidden 128,x", "item 'x' is not an integer"},
      {"profile", "--reps 0", "--reps 0: outside the range 1..1000000"},
      {"evaluate", "--limit -7", "--limit -7: outside the range -1..1073741824"},
      {"graph", "--steps 51", "--steps 51: outside the range 1..50"},
      {"train_g2p", "--beam 0", "--beam 0: outside the range 1..256"},
      {"train_g2p", "--teacher-forcing 1.5", "outside the range 0..1"},
      {"train_generator", "--temperature 0", "--temperature 0: outside the range 0.001..100"},
      {"generate", "--count 0", "--count 0: outside the range 1..1048576"},
      {"g2p", "--max-len 0", "--max-len 0: outside the range 1..1000"},
  };
  for (const Case& c : cases) {
    INFO(c.program << " " << c.args);
    const Run r = run(bin / c.program, c.args, dir);
    INFO("stderr:\n" << r.err);
    CHECK((r.code == 2 || r.code == 1));
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.out.find("{\"") == std::string::npos);
  }
  // Results that cannot be written are an error: stdout on a full disk, a metrics file there.
  const fs::path cls = bin / "train_classifier";
  const int full = std::system(("cd \"" + dir.string() + "\" && \"" + cls.string() +
                                "\" --limit 200 --dev-size 50 > /dev/full 2> full.txt").c_str());
  CHECK(WIFEXITED(full));
  CHECK(WEXITSTATUS(full) == 1);
  CHECK(slurp(dir / "full.txt").find("cannot write the result line to stdout") != std::string::npos);
  const Run metrics = run(cls, "--limit 200 --dev-size 50 --metrics /dev/full", dir);
  CHECK(metrics.code == 1);
  CHECK(metrics.err.find("cannot write a row to '/dev/full'") != std::string::npos);
  // A checkpoint already at --epochs, and an --lr that contradicts the checkpoint's.
  const fs::path tagger = bin / "train_tagger";
  REQUIRE(run(tagger, "--epochs 1 --hidden 8 --embed 8 --checkpoint c.h5", dir).code == 0);
  const Run done = run(tagger, "--epochs 1 --hidden 8 --embed 8 --resume c.h5", dir);
  CHECK(done.code == 2);
  CHECK(done.err.find("the checkpoint is at epoch 1 already and --epochs is 1") != std::string::npos);
  const Run lr = run(tagger, "--epochs 2 --hidden 8 --embed 8 --resume c.h5 --lr 0.01", dir);
  CHECK(lr.code == 2);
  CHECK(lr.err.find("--lr 0.01 contradicts the checkpoint's learning rate") != std::string::npos);
  const Run over = run(tagger, "--epochs 2 --hidden 8 --embed 8 --resume c.h5 --lr 0.01 --override", dir);
  CHECK(over.code == 0);
  CHECK(over.err.find("--override: --lr 0.01 replaces") != std::string::npos);
  // Outputs naming the same file are refused before anything is written: a metrics CSV over a
  // checkpoint, over its best model, over the file resumed from, or over a hard link of it.
  fs::create_hard_link(dir / "c.h5", dir / "link.csv");
  const std::string before = slurp(dir / "c.h5");
  for (const char* args : {"--epochs 3 --hidden 8 --embed 8 --checkpoint d.h5 --metrics d.h5",
                           "--epochs 3 --hidden 8 --embed 8 --checkpoint d.h5 --metrics d.best.h5",
                           "--epochs 3 --hidden 8 --embed 8 --resume c.h5 --metrics ./c.h5",
                           "--epochs 3 --hidden 8 --embed 8 --resume c.h5 --metrics link.csv"}) {
    const Run alias = run(tagger, args, dir);
    INFO(args << "\n" << alias.err);
    CHECK(alias.code == 2);
    CHECK(alias.err.find("are the same file: each output needs a file of its own") != std::string::npos);
  }
  CHECK(slurp(dir / "c.h5") == before);
  CHECK(!fs::exists(dir / "d.h5"));
  fs::remove_all(dir);
}
