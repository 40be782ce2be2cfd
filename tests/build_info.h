#pragma once
// What the tests know of the build they run in.
#include <filesystem>
#include <fstream>
#include <string>

namespace reel::testing {

// A value of this build's CMakeCache.txt ("KEY:TYPE=value"), or "" if the key is absent.
inline std::string cache_value(const std::string& key) {
  std::ifstream in(std::filesystem::path(REEL_BINARY_DIR) / "CMakeCache.txt");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(line.find('=') + 1);
  return "";
}

}  // namespace reel::testing
