// libFuzzer target: any bytes as an IDX file (plain, or gzip when they start like one).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "data/idx.h"
#include <spdlog/spdlog.h>

#include "framework/log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/reel-fuzz-idx-" + std::to_string(::getpid()) + ".idx";
  static bool quiet = [] {
    reel::init_logging();
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  for (int64_t limit : {int64_t{-1}, int64_t{3}}) {
    try {
      reel::read_idx(path, limit);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
