// libFuzzer target: any bytes as a CoNLL-U file, read and turned into a tagging dataset.
#include <cstdint>
#include <exception>
#include <string>

#include "tests/fuzz/fuzz_input.h"
#include "data/conllu.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = reel::fuzz::input_file(data, size, ".conllu");
  if (path.empty()) return 0;
  try {
    const auto sentences = reel::read_conllu(path);
    const reel::Vocab vocab = reel::Vocab::from_sentences(reel::words_of(sentences), 1, true);
    if (!sentences.empty()) reel::upos_dataset<float>("fuzz", sentences, vocab);
  } catch (const std::exception&) {
  }
  return 0;
}
