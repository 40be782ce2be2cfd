// The installed package carries the public API only: `cmake --install` of this build puts every
// header of framework/, models/ and data/ under include/reel except the *_detail.h internals, and
// every header it installs finds each of its reel includes in the installed tree (so no public
// header may include a detail one). tests/consumer, built by .ci/run, compiles against it.
#include <catch2/catch.hpp>

#include "tests/build_info.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

using reel::testing::cache_value;

namespace {

bool is_detail(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.size() > 9 && name.compare(name.size() - 9, 9, "_detail.h") == 0;
}

// Headers under framework/, models/ and data/ of root, as "framework/tape.h".
std::set<std::string> headers_under(const fs::path& root) {
  std::set<std::string> out;
  for (const char* top : {"framework", "models", "data"}) {
    if (!fs::is_directory(root / top)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root / top))
      if (e.is_regular_file() && e.path().extension() == ".h") out.insert(fs::relative(e.path(), root).generic_string());
  }
  return out;
}

// The project headers a file includes: #include "framework/..." (or <models/...>, <data/...>).
std::vector<std::string> reel_includes(const fs::path& file) {
  static const std::regex include(R"(^\s*#\s*include\s*["<]((framework|models|data)/[^">]+)[">])");
  std::vector<std::string> out;
  std::ifstream in(file);
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, include)) out.push_back(m[1].str());
  return out;
}

}  // namespace

TEST_CASE("no public header includes a *_detail.h header", "[install]") {
  const fs::path src(REEL_SOURCE_DIR);
  const std::set<std::string> all = headers_under(src);
  int details = 0;
  std::string offending;
  for (const std::string& h : all) {
    if (is_detail(h)) {
      ++details;
      continue;
    }
    for (const std::string& inc : reel_includes(src / h))
      if (is_detail(inc)) offending += "\n  " + h + " includes " + inc;
  }
  INFO("a public header must not include a detail header (move the include into the .cpp):" << offending);
  CHECK(details >= 2);  // checkpoint_detail.h, hdf5_detail.h
  CHECK(offending.empty());
}

TEST_CASE("cmake --install puts the public headers only, and they include only installed headers", "[install]") {
  const std::string cmake = cache_value("CMAKE_COMMAND");
  REQUIRE_FALSE(cmake.empty());
  const fs::path prefix = fs::temp_directory_path() / ("reel-install-test." + std::to_string(getpid()));
  fs::remove_all(prefix);
  const std::string cmd = "\"" + cmake + "\" --install \"" + std::string(REEL_BINARY_DIR) + "\" --prefix \"" +
                          prefix.string() + "\" > \"" + prefix.string() + ".log\" 2>&1";
  const int rc = std::system(cmd.c_str());
  INFO(cmd);
  REQUIRE(WIFEXITED(rc));
  REQUIRE(WEXITSTATUS(rc) == 0);
  const fs::path include = prefix / "include" / "reel";
  REQUIRE(fs::is_directory(include));

  const std::set<std::string> installed = headers_under(include);
  std::set<std::string> expected;
  for (const std::string& h : headers_under(REEL_SOURCE_DIR))
    if (!is_detail(h)) expected.insert(h);
  CHECK(expected.size() > 40);
  CHECK(installed == expected);  // every public header, and no detail header
  CHECK(installed.count("framework/checkpoint.h") == 1);
  CHECK(installed.count("framework/checkpoint_detail.h") == 0);
  CHECK(installed.count("framework/hdf5_detail.h") == 0);
  CHECK_FALSE(fs::exists(include / "data" / "ud-english-ewt"));  // no data folders among the headers

  std::string missing;
  for (const std::string& h : installed)
    for (const std::string& inc : reel_includes(include / h))
      if (!fs::exists(include / inc)) missing += "\n  " + h + " includes " + inc;
  INFO("installed headers including headers that are not installed:" << missing);
  CHECK(missing.empty());
  fs::remove_all(prefix);
  fs::remove(prefix.string() + ".log");
}
