// libFuzzer target: any bytes as a checkpoint file, through everything that reads one (the seal
// check, inspect, the model factory). Every failure must be an exception; a crash, a hang or a
// sanitizer report is a bug. Unsealed inputs are pre-read in a child process, as in production.
#include <cstdint>
#include <exception>
#include <string>

#include "tests/fuzz/fuzz_input.h"
#include "framework/checkpoint.h"
#include "models/model_factory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = reel::fuzz::input_file(data, size, ".h5");
  if (path.empty()) return 0;
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
