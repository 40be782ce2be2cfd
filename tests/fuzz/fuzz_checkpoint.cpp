// libFuzzer target: any bytes as a checkpoint file, through everything that reads one (the seal
// check, inspect, the model factory). Every failure must be an exception; a crash, a hang or a
// sanitizer report is a bug. Unsealed inputs are pre-read in a child process, as in production.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "framework/checkpoint.h"
#include <spdlog/spdlog.h>

#include "framework/log.h"
#include "models/model_factory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/reel-fuzz-checkpoint-" + std::to_string(::getpid()) + ".h5";
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
  try {
    reel::inspect_checkpoint(path);
  } catch (const std::exception&) {
  }
  try {
    reel::load_model<float>(path);
  } catch (const std::exception&) {
  }
  return 0;
}
