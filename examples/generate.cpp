// Samples words for a language with a train_generator checkpoint: one word per line, then one
// JSON line. Reproducible: the same --seed gives the same words.
//
//   generate run/gen.best.h5 --language fr --count 10 --temperature 0.8 --seed 3
#include "examples/example_common.h"
#include "examples/generator_common.h"
#include "models/generation_io.h"

using namespace reel;
using namespace reel::examples;

int main(int argc, char** argv) {
  Cli cli("generate", "Sample words for a language from a train_generator checkpoint (generate MODEL --language L --count N).");
  cli.option("model", "", "the checkpoint (.h5) train_generator wrote; or the first bare argument");
  cli.option("language", "en", "the language (one of the checkpoint's categories)");
  cli.option("count", "10", "words to sample").integer_in(1, 1 << 20);
  cli.option("temperature", "1.0", "sampling temperature").number_in(1e-3, 100);
  cli.option("top-k", "0", "sample among the k most likely symbols (0: all)").integer_in(0, 1 << 20);
  cli.option("max-len", "30", "symbols at most per word").integer_in(1, 1000);
  cli.option("seed", "1", "the sampler's seed").integer_in(0, int64_t{1} << 53);
  cli.option("threads", "1", "BLAS threads").integer_in(1, 256);
  std::vector<char*> args(argv, argv + argc);
  std::string bare;
  if (argc > 1 && argv[1][0] != '-') bare = argv[1], args.erase(args.begin() + 1);
  return run_main(cli, static_cast<int>(args.size()), args.data(), [&] {
    const std::string path = bare.empty() ? cli.str("model") : bare;
    if (path.empty()) throw UsageError("no model: give the checkpoint train_generator wrote (generate MODEL.h5 --language L)");
    require_kind(path, "generator", "train_generator");
    const LoadedGenerator<float> m = load_generator<float>(path);
    const auto it = std::find(m.categories.begin(), m.categories.end(), cli.str("language"));
    if (it == m.categories.end()) {
      std::string known;
      for (const auto& c : m.categories) known += (known.empty() ? "" : ", ") + c;
      throw UsageError("--language '" + cli.str("language") + "': not one of the model's languages (" + known + ")");
    }
    if (cli.integer("top-k") > m.config.vocab)
      throw UsageError("--top-k " + cli.str("top-k") + " exceeds the model's " + std::to_string(m.config.vocab) + " symbols");
    Tape<float> tape;
    NoGradGuard<float> no_grad(tape);
    Rng rng(static_cast<uint64_t>(cli.integer("seed")));
    const std::vector<int64_t> cats(static_cast<size_t>(cli.integer("count")), it - m.categories.begin());
    const Generated g = m.model->generate(tape, m.model->category_context(tape, cats),
                                          GenerateOptions{cli.integer("max-len"), {cli.number("temperature"), cli.integer("top-k")}}, rng);
    int64_t ended = 0, symbols = 0;
    for (size_t i = 0; i < g.tokens.size(); ++i) {
      std::printf("%s%s\n", word_text(m.symbols, g.tokens[i]).c_str(), g.ended[i] ? "" : " ...");
      ended += g.ended[i];
      symbols += g.lengths[i];
    }
    JsonLine j;
    j.add("example", std::string("generate")).add("language", cli.str("language")).add("words", cli.integer("count"));
    j.add("ended", ended).add("mean_length", static_cast<double>(symbols) / static_cast<double>(g.tokens.size()));
    j.add("seed", cli.integer("seed"));
    j.print();
    return 0;
  });
}
