#pragma once
// Running a Python tool under tools/ with Debian's /usr/bin/python3 (not whatever python3 is on
// PATH) from a test, to compare its output with reel's.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/data_test_util.h"

namespace reel::testing {

inline const std::string kPython = "/usr/bin/python3";

// Runs `/usr/bin/python3 tools/<tool_and_args>` with stdout and stderr to a file in tmp and returns
// the output's lines; fails the test (showing the output) unless it exits with want_rc.
inline std::vector<std::string> run_python(const std::string& tool_and_args, const TempDir& tmp, int want_rc = 0) {
  const std::string out = tmp.file("python.out");
  // No __pycache__ left in the source tree's tools/.
  const std::string cmd = "PYTHONDONTWRITEBYTECODE=1 " + kPython + " " + std::string(REEL_SOURCE_DIR) + "/tools/" + tool_and_args + " >" + out + " 2>&1";
  const int status = std::system(cmd.c_str());
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (rc != want_rc) {
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    FAIL_CHECK(cmd << " exited with " << rc << ", expected " << want_rc << ":\n" << all);
  }
  return lines;
}

}  // namespace reel::testing
