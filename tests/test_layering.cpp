// The layering CI guard: framework/ is the bottom layer and includes nothing from models/ or data/
// (models/ may include data/ and framework/, data/ may include framework/). Scans every source
// file under framework/ and names each offending line.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

TEST_CASE("framework/ includes nothing from models/ or data/", "[layering]") {
  const fs::path root = fs::path(REEL_SOURCE_DIR) / "framework";
  REQUIRE(fs::is_directory(root));
  // #include "models/..." or <data/...>, with any spacing after the '#'.
  const std::regex include(R"(^\s*#\s*include\s*["<](models|data)/)");
  std::vector<std::string> offending;
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".h" && ext != ".hpp" && ext != ".cpp" && ext != ".cc")) continue;
    ++files;
    std::ifstream in(e.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      if (std::regex_search(line, include))
        offending.push_back(fs::relative(e.path(), REEL_SOURCE_DIR).string() + ":" + std::to_string(n) + ": " + line);
  }
  std::string report;
  for (const auto& o : offending) report += "\n  " + o;
  INFO("framework/ must not depend on models/ or data/ (move the code, or pass what it needs through a framework type):" << report);
  CHECK(files > 20);  // the scan saw the framework
  CHECK(offending.empty());
}
