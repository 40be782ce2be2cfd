#pragma once
// What every fuzz target does first: logging off, and the input bytes in a file of this process's
// own (the readers under test take paths).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include <spdlog/spdlog.h>

#include "framework/log.h"

namespace reel::fuzz {

// The input as the file /tmp/reel-fuzz-<pid><suffix>; "" if it cannot be written.
inline std::string input_file(const uint8_t* data, size_t size, const char* suffix) {
  static const bool quiet = [] {
    reel::init_logging();
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  const std::string path = "/tmp/reel-fuzz-" + std::to_string(::getpid()) + suffix;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return "";
  const bool ok = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok ? path : "";
}

}  // namespace reel::fuzz
