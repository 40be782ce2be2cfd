// Transcribes words with a train_g2p checkpoint: words on the command line, or one per line on
// stdin; prints "word<TAB>PH1 PH2 ..." (greedy, or the best of --beam), then one JSON line.
//
//   g2p run/g2p.best.h5 hello world          echo reel | g2p --model run/g2p.best.h5 --beam 5 --nbest 3
#include <iostream>

#include "examples/example_common.h"
#include "examples/g2p_common.h"
#include "models/generation_io.h"

using namespace reel;
using namespace reel::examples;

int main(int argc, char** argv) {
  Cli cli("g2p", "Transcribe words to phones with a train_g2p checkpoint (g2p MODEL WORD..., or words on stdin).");
  cli.option("model", "", "the checkpoint (.h5) train_g2p wrote; or the first bare argument");
  cli.option("beam", "1", "beam width (1: greedy)").integer_in(1, 256);
  cli.option("nbest", "1", "hypotheses printed per word (<= --beam)").integer_in(1, 256);
  cli.option("max-len", "40", "phones at most per word").integer_in(1, 1000);
  cli.option("threads", "1", "BLAS threads").integer_in(1, 256);
  std::vector<std::string> words;  // bare arguments after the model
  std::vector<char*> flags = {argv[0]};
  std::string model_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h") {
      flags.push_back(argv[i]);
    } else if (a.rfind("--", 0) == 0) {
      flags.push_back(argv[i]);
      if (a.find('=') == std::string::npos && a != "--help" && i + 1 < argc) flags.push_back(argv[++i]);
    } else if (model_path.empty() && a.size() > 3 && a.compare(a.size() - 3, 3, ".h5") == 0) {
      model_path = a;
    } else {
      words.push_back(a);
    }
  }
  return run_main(cli, static_cast<int>(flags.size()), flags.data(), [&] {
    if (model_path.empty()) model_path = cli.str("model");
    if (model_path.empty()) throw UsageError("no model: give the checkpoint train_g2p wrote (g2p MODEL.h5 WORD...)");
    if (cli.integer("nbest") > cli.integer("beam"))
      throw UsageError("--nbest " + cli.str("nbest") + " exceeds --beam " + cli.str("beam"));
    require_kind(model_path, "seq2seq", "train_g2p");
    const LoadedSeq2Seq<float> m = load_seq2seq<float>(model_path);
    if (words.empty())
      for (std::string line; std::getline(std::cin, line);)
        if (!line.empty()) words.push_back(line);
    if (words.empty()) throw UsageError("no words: give them after the model or one per line on stdin");
    // CMUdict's words are lower case: so is the input when the model knows no upper-case letter.
    bool upper = false;
    for (const std::string& c : m.source.words()) upper = upper || (c.size() == 1 && c[0] >= 'A' && c[0] <= 'Z');
    Tape<float> tape;
    int64_t phones = 0;
    for (const std::string& w : words) {
      tape.clear();
      const SequenceBatch<float> src = collate_ids<float>({letter_ids(m.source, upper ? w : ascii_lower(w), true)});
      const auto hyps = beam_search(*m.model, tape, src, BeamOptions{cli.integer("beam"), cli.integer("max-len"), 1.0}).front();
      for (size_t k = 0; k < hyps.size() && static_cast<int64_t>(k) < cli.integer("nbest"); ++k) {
        std::string out;
        for (int64_t id : hyps[k].tokens) out += (out.empty() ? "" : " ") + m.target.word(id);
        std::printf("%s\t%s%s\n", w.c_str(), out.c_str(), hyps[k].ended ? "" : " ...");
        if (k == 0) phones += static_cast<int64_t>(hyps[k].tokens.size());
      }
    }
    JsonLine j;
    j.add("example", std::string("g2p")).add("model", model_path).add("words", static_cast<int64_t>(words.size()));
    j.add("phones", phones).add("beam", cli.integer("beam"));
    j.print();
    return 0;
  });
}
