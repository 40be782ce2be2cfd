// Runs an example program from a test: its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace reel::testing {

/// A file's whole content ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// What a program run gave.
struct Run {
  int code = -1;  ///< exit code, -1 if killed or not run
  std::string out, err;  ///< stdout, stderr
};

/// Runs program with args in dir (at most `seconds`), stdin from /dev/null (or `input`), its
/// stdout and stderr captured.
inline Run run(const std::filesystem::path& program, const std::string& args, const std::filesystem::path& dir, int seconds = 60,
               const std::string& input = "/dev/null") {
  const std::filesystem::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = "cd \"" + dir.string() + "\" && timeout " + std::to_string(seconds) + " \"" + program.string() + "\" " + args +
                          " > \"" + out.string() + "\" 2> \"" + err.string() + "\" < \"" + input + "\"";
  const int rc = std::system(cmd.c_str());
  Run r;
  if (WIFEXITED(rc)) r.code = WEXITSTATUS(rc);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace reel::testing
