// Evaluates a saved model, built from its checkpoint alone (configuration, weights, vocabulary):
//  * a classifier on Fashion-MNIST read row by row (as train_classifier trains it): accuracy over
//    images of the test split (or the training file's first --limit images with --split train);
//  * a tagger on UD English EWT: words lower-cased through the checkpoint's vocabulary, UPOS
//    accuracy over tokens of the test (or dev, train) split.
// Ends with one JSON line.
//
//   evaluate --checkpoint run/tagger.best.h5 [--split test] [--data DIR]
#include <algorithm>
#include <chrono>

#include "data/conllu.h"
#include "data/idx.h"
#include "examples/example_common.h"
#include "framework/checkpoint.h"
#include "models/model_factory.h"
#include "models/sequence_models.h"

using namespace reel;
using namespace reel::examples;

struct Result {
  std::string task;
  int64_t items = 0, tokens = 0;
  double accuracy = 0;
};

template <class T>
static Result evaluate_classifier(const SequenceClassifier<T>& model, const SequenceModelConfig& cfg, const std::string& dir,
                                  const std::string& split, int64_t limit, BatchMode mode) {
  if (split != "test" && split != "train") throw UsageError("evaluate: a classifier's --split is test or train, got '" + split + "'");
  const ImageDataset d = load_fashion_mnist(dir, split, limit);
  if (cfg.input_dim != d.cols)
    throw UsageError("evaluate: the model reads " + std::to_string(cfg.input_dim) + " features a step, the " + split + " images in " + dir +
                     " have " + std::to_string(d.cols) + " columns: the data and the model do not fit (not a row-by-row classifier of these images)");
  Tape<T> tape;
  NoGradGuard<T> no_grad(tape);
  int64_t correct = 0;
  const int64_t per = d.rows * d.cols;
  for (int64_t i = 0; i < d.n; i += 1000) {
    SequenceBatch<T> b;
    b.batch = std::min<int64_t>(1000, d.n - i);
    b.max_len = d.rows;
    b.features = d.cols;
    b.lengths.assign(static_cast<size_t>(b.batch), d.rows);
    b.values.assign(d.pixels.begin() + i * per, d.pixels.begin() + (i + b.batch) * per);
    tape.clear();
    const auto pred = argmax_rows(model.logits(tape, b, mode));
    for (int64_t k = 0; k < b.batch; ++k) correct += pred[static_cast<size_t>(k)] == d.labels[static_cast<size_t>(i + k)];
  }
  return {"fashion_mnist_rowwise", d.n, 0, d.n ? static_cast<double>(correct) / static_cast<double>(d.n) : 0.0};
}

template <class T>
static Result evaluate_tagger(const SequenceTagger<T>& model, const Vocab& vocab, const std::string& dir, const std::string& split,
                              int64_t limit, BatchMode mode) {
  std::vector<Sentence> sentences = read_conllu(dir + "/en_ewt-ud-" + split + ".conllu.gz");
  sentences.erase(std::remove_if(sentences.begin(), sentences.end(), [](const Sentence& s) { return s.words.empty(); }), sentences.end());
  if (limit >= 0 && static_cast<int64_t>(sentences.size()) > limit) sentences.resize(static_cast<size_t>(limit));
  Tape<T> tape;
  NoGradGuard<T> no_grad(tape);
  Result r{"ud_ewt_upos", static_cast<int64_t>(sentences.size()), 0, 0};
  int64_t correct = 0;
  for (size_t i = 0; i < sentences.size(); i += 256) {
    const size_t end = std::min(sentences.size(), i + 256);
    SequenceBatch<T> b;
    b.batch = static_cast<int64_t>(end - i);
    for (size_t k = i; k < end; ++k) b.max_len = std::max<int64_t>(b.max_len, static_cast<int64_t>(sentences[k].words.size()));
    b.ids.assign(static_cast<size_t>(b.batch * b.max_len), Vocab::kPad);
    std::vector<int64_t> tags(b.ids.size(), 0);
    for (size_t k = i; k < end; ++k) {
      const Sentence& s = sentences[k];
      const int64_t row = static_cast<int64_t>(k - i) * b.max_len;
      b.lengths.push_back(static_cast<int64_t>(s.words.size()));
      for (size_t t = 0; t < s.words.size(); ++t) {
        b.ids[static_cast<size_t>(row) + t] = vocab.id(ascii_lower(s.words[t]));
        tags[static_cast<size_t>(row) + t] = upos_index(s.upos[t]);
      }
      r.tokens += static_cast<int64_t>(s.words.size());
    }
    tape.clear();
    const TaggerOutput<T> out = model.forward(tape, b, mode);
    const auto pred = argmax_rows(out.logits);
    for (size_t k = 0; k < pred.size(); ++k) correct += out.mask[k] != 0 && pred[k] == tags[static_cast<size_t>(out.rows[k])];
  }
  r.accuracy = r.tokens ? static_cast<double>(correct) / static_cast<double>(r.tokens) : 0.0;
  return r;
}

template <class T>
static int run(const Cli& cli) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string path = cli.str("checkpoint");
  LoadedModel<T> m = load_model<T>(path);
  const BatchMode mode = parse_batch_mode(cli.str("mode"));
  const std::string split = cli.str("split");
  std::string dir = cli.str("data");
  Result r;
  if (m.classifier) {
    if (dir.empty()) dir = kFashionMnistDir;
    r = evaluate_classifier(*m.classifier, m.config, dir, split, cli.integer("limit"), mode);
  } else {
    if (!m.vocab) throw UsageError("evaluate: " + path + " holds no vocabulary (save the tagger's checkpoint with its Vocab)");
    if (m.config.num_classes != static_cast<int64_t>(upos_tags().size()))
      throw UsageError("evaluate: the tagger has " + std::to_string(m.config.num_classes) + " classes, UPOS has " +
                       std::to_string(upos_tags().size()));
    if (dir.empty()) dir = "data/ud-english-ewt";
    r = evaluate_tagger(*m.tagger, *m.vocab, find_data(dir), split, cli.integer("limit"), mode);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("{} ({}, epoch {}): {} accuracy {:.4f} over {} {}", path, m.config.kind, m.state.epoch, split, r.accuracy,
               r.tokens ? r.tokens : r.items, r.tokens ? "tokens" : "images");
  JsonLine line;
  line.add("task", r.task).add("checkpoint", path).add("kind", m.config.kind).add("split", split).add("epoch", m.state.epoch);
  line.add(m.classifier ? "images" : "sentences", r.items);
  if (!m.classifier) line.add("tokens", r.tokens);
  line.add("accuracy", r.accuracy).add("seconds", secs);
  // On the dev split, the training run recorded the accuracy it saw: reloading must reproduce it.
  const auto saved = m.state.metrics.find("dev_accuracy");
  const bool compare = split == "dev" && saved != m.state.metrics.end() && cli.integer("limit") < 0;
  if (compare) line.add("saved_dev_accuracy", saved->second).raw("matches_saved", r.accuracy == saved->second ? "true" : "false");
  line.print();
  if (compare && r.accuracy != saved->second) {
    spdlog::error("dev accuracy {:.6f} differs from the {:.6f} saved at training time", r.accuracy, saved->second);
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  Cli cli("evaluate", "Evaluate a saved classifier (Fashion-MNIST) or tagger (UD EWT UPOS) from its checkpoint alone.");
  cli.option("checkpoint", "", "checkpoint file (.h5), e.g. the .best.h5 a training example wrote")
      .option("split", "test", "classifier: test or train; tagger: test, dev or train")
      .option("data", "", "data directory (default: " + std::string(kFashionMnistDir) + " or data/ud-english-ewt, by model kind)")
      .option("limit", "-1", "only the first N images or sentences (-1: all)").integer_in(-1, 1 << 30)
      .option("mode", "packed", "batch layout: packed or padded")
      .option("threads", "1", "BLAS threads").integer_in(1, 256);
  return run_main(cli, argc, argv, [&] {
    const std::string path = cli.str("checkpoint");
    if (path.empty()) throw UsageError("evaluate: --checkpoint FILE is required");
    return read_checkpoint_dtype(path) == "float64" ? run<double>(cli) : run<float>(cli);
  });
}
