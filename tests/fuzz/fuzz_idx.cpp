// libFuzzer target: any bytes as an IDX file (plain, or gzip when they start like one).
#include <cstdint>
#include <exception>
#include <string>

#include "tests/fuzz/fuzz_input.h"
#include "data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = reel::fuzz::input_file(data, size, ".idx");
  if (path.empty()) return 0;
  for (int64_t limit : {int64_t{-1}, int64_t{3}}) {
    try {
      reel::read_idx(path, limit);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
