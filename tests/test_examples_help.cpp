// Every program in examples/ answers --help (and -h) with its usage on stdout and exit code 0, and
// an unknown flag with a message on stderr and exit code 2. The programs are the examples/*.cpp
// sources, run from <build>/examples as built by this build (skipped if it has
// REEL_BUILD_EXAMPLES=OFF).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string cache_value(const std::string& key) {
  std::ifstream in(fs::path(REEL_BINARY_DIR) / "CMakeCache.txt");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(line.find('=') + 1);
  return "";
}

struct Run {
  int code = -1;  // exit code, -1 if killed or not run
  std::string out, err;
};

// Runs program with args (at most 60 s), its stdout and stderr captured.
Run run(const fs::path& program, const std::string& args, const fs::path& dir) {
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = "cd \"" + dir.string() + "\" && timeout 60 \"" + program.string() + "\" " + args + " > \"" +
                          out.string() + "\" 2> \"" + err.string() + "\" < /dev/null";
  const int rc = std::system(cmd.c_str());
  Run r;
  if (WIFEXITED(rc)) r.code = WEXITSTATUS(rc);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace

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
  const Run r = run(tagger, "--epochs 0 --hidden 8 --embed 8", dir);
  INFO("stderr:\n" << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("\"task\":\"ud_ewt_upos\"") != std::string::npos);
  // A relative path found nowhere: an error naming every place looked at.
  const Run missing = run(tagger, "--data nowhere/ud-x --epochs 0", dir);
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
