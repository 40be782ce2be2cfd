// libFuzzer target: any bytes as a CoNLL-U file, read and turned into a tagging dataset.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "data/conllu.h"
#include <spdlog/spdlog.h>

#include "framework/log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/reel-fuzz-conllu-" + std::to_string(::getpid()) + ".conllu";
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
    const auto sentences = reel::read_conllu(path);
    const reel::Vocab vocab = reel::Vocab::from_sentences(reel::words_of(sentences), 1, true);
    if (!sentences.empty()) reel::upos_dataset<float>("fuzz", sentences, vocab);
  } catch (const std::exception&) {
  }
  return 0;
}
