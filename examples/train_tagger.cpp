// UPOS tagging of UD English EWT: lower-cased words (count >= 2, the rest <unk>) -> embedding 100
// -> recurrent layers (vanilla tanh by default; --cell lstm|gru, --layers N, --bidirectional;
// hidden 128) -> linear head over 17 tags at every token. Adam 1e-3, batch 32, clipping 1.0, packed batches bucketed by length, masked loss, model selection on dev.
#include <algorithm>
#include <chrono>

#include "data/batching.h"
#include "data/conllu.h"
#include "data/vocab.h"
#include "examples/example_common.h"
#include "examples/run_state.h"
#include "framework/metrics_csv.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"

using namespace reel;
using namespace reel::examples;

struct Corpus {
  std::vector<std::vector<int64_t>> ids, tags;
  int64_t tokens = 0;
};

static Corpus encode(const std::vector<Sentence>& sentences, const Vocab& vocab) {
  Corpus c;
  for (const Sentence& s : sentences) {
    if (s.words.empty()) continue;
    c.ids.push_back(vocab.ids(s.words));
    std::vector<int64_t> t;
    for (const auto& tag : s.upos) t.push_back(upos_index(tag));
    c.tags.push_back(std::move(t));
    c.tokens += static_cast<int64_t>(s.words.size());
  }
  return c;
}

// Sentences idx as a padded batch of token ids, and their tags padded the same way.
static SequenceBatch<float> make_batch(const Corpus& c, const std::vector<int64_t>& idx, std::vector<int64_t>* tags) {
  SequenceBatch<float> b;
  b.batch = static_cast<int64_t>(idx.size());
  for (int64_t i : idx) b.max_len = std::max<int64_t>(b.max_len, static_cast<int64_t>(c.ids[static_cast<size_t>(i)].size()));
  b.ids.assign(static_cast<size_t>(b.batch * b.max_len), Vocab::kPad);
  tags->assign(b.ids.size(), 0);
  for (int64_t k = 0; k < b.batch; ++k) {
    const auto& words = c.ids[static_cast<size_t>(idx[static_cast<size_t>(k)])];
    const auto& tg = c.tags[static_cast<size_t>(idx[static_cast<size_t>(k)])];
    b.lengths.push_back(static_cast<int64_t>(words.size()));
    std::copy(words.begin(), words.end(), b.ids.begin() + k * b.max_len);
    std::copy(tg.begin(), tg.end(), tags->begin() + k * b.max_len);
  }
  return b;
}

// Correct real tokens of one forward.
static int64_t count_correct(const TaggerOutput<float>& out, const std::vector<int64_t>& tags) {
  const auto pred = argmax_rows(out.logits);
  int64_t correct = 0;
  for (size_t k = 0; k < pred.size(); ++k)
    correct += out.mask[k] != 0 && pred[k] == tags[static_cast<size_t>(out.rows[k])];
  return correct;
}

// Accuracy over every sentence; with --distributed each rank takes every size()-th chunk.
static double accuracy(const SequenceTagger<float>& model, Tape<float>& tape, const Corpus& c, BatchMode mode,
                       DataParallel& dp) {
  NoGradGuard<float> no_grad(tape);
  double correct = 0;
  const int64_t n = static_cast<int64_t>(c.ids.size());
  for (int64_t i = 256 * dp.rank(); i < n; i += 256 * dp.size()) {
    std::vector<int64_t> idx;
    for (int64_t k = i; k < std::min(n, i + 256); ++k) idx.push_back(k);
    std::vector<int64_t> tags;
    tape.clear();
    correct += static_cast<double>(count_correct(model.forward(tape, make_batch(c, idx, &tags), mode), tags));
  }
  dp.sum(&correct, 1);
  return correct / static_cast<double>(c.tokens);
}

int main(int argc, char** argv) {
  Cli cli("train_tagger", "Train a UPOS tagger on UD English EWT (embedding + recurrent layers: --cell, --layers, --bidirectional).");
  add_training_flags(cli, {"data/ud-english-ewt", 2, 128, 32, 1e-3});
  cli.option("embed", "100", "embedding size").option("min-count", "2", "vocabulary minimum word count");
  cli.option("bucket", "0", "1: batches of similar lengths (less padding, faster); 0: random batches");
  return run_main(cli, argc, argv, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    DataParallel dp(cli);
    const std::string dir = cli.str("data");
    auto train_s = read_conllu(dir + "/en_ewt-ud-train.conllu.gz");
    auto dev_s = read_conllu(dir + "/en_ewt-ud-dev.conllu.gz");
    auto test_s = read_conllu(dir + "/en_ewt-ud-test.conllu.gz");
    std::vector<std::vector<std::string>> words;
    for (const auto& s : train_s) words.push_back(s.words);
    const Vocab vocab = Vocab::from_sentences(words, cli.integer("min-count"), /*lowercase=*/true);
    const Corpus train = encode(train_s, vocab), dev = encode(dev_s, vocab), test = encode(test_s, vocab);
    spdlog::info("UD EWT: {} / {} / {} sentences, {} train tokens, vocabulary {}", train.ids.size(), dev.ids.size(),
                 test.ids.size(), train.tokens, vocab.size());

    const uint64_t seed = static_cast<uint64_t>(cli.integer("seed"));
    Rng init_rng(seed), shuffle_rng(seed + 0x5eed);
    SequenceModelConfig config;
    config.kind = "tagger";
    config.vocab_size = vocab.size();
    config.embed_dim = cli.integer("embed");
    config.hidden_dim = cli.integer("hidden");
    config.num_classes = static_cast<int64_t>(upos_tags().size());
    set_recurrence(cli, config);
    ParameterStore<float> store;
    SequenceTagger<float> model(store, config, init_rng);
    AdamOptions adam_opts;
    adam_opts.lr = cli.number("lr");
    Adam<float> adam(store.all(), adam_opts);
    TrainerOptions topts;
    topts.clip_norm = cli.number("clip");
    topts.anomaly = cli.on("anomaly");
    Trainer<float> trainer(store, adam, topts);
    const BatchMode mode = parse_batch_mode(cli.str("mode"));
    RunState run;
    run.start(dp.root_only(cli.str("checkpoint")), cli.str("resume"), model, adam, init_rng, shuffle_rng);
    MetricsCsv metrics(dp.root_only(cli.str("metrics")), /*append=*/!cli.str("resume").empty());
    uint64_t data_hash = 0;
    for (const auto& s : train.ids) data_hash ^= distributed::fnv1a(s.data(), s.size() * sizeof(int64_t), data_hash);
    dp.attach(trainer, store, training_facts(cli, config, std::to_string(train.ids.size()) + " sentences, hash " + std::to_string(data_hash)));

    std::vector<int64_t> lengths;
    for (const auto& s : train.ids) lengths.push_back(static_cast<int64_t>(s.size()));
    Tape<float> tape;
    const int epochs = static_cast<int>(cli.integer("epochs"));
    double train_loss = 0, seconds_training = 0;
    int64_t sequences = 0;
    for (int epoch = run.first_epoch; epoch <= epochs; ++epoch) {
      auto batches = make_batches(lengths, cli.integer("batch"), shuffle_rng, true, cli.integer("bucket") != 0);
      Progress progress("sent", static_cast<int64_t>(train.ids.size()), epoch, epochs);
      double loss_sum = 0;
      int64_t seen = 0, tokens = 0, correct = 0;
      for (const auto& global : batches) {
        const std::vector<int64_t> idx = dp.shard(global);  // all of it in one process
        std::vector<int64_t> tags;
        int64_t batch_correct = 0, batch_tokens = 0;
        for (int64_t i : idx) batch_tokens += static_cast<int64_t>(train.ids[static_cast<size_t>(i)].size());
        SequenceBatch<float> batch = idx.empty() ? SequenceBatch<float>{} : make_batch(train, idx, &tags);
        StepResult r = trainer.step(tape, [&](Tape<float>& t) {
          TaggerOutput<float> out = model.forward(t, batch, mode);
          batch_correct = count_correct(out, tags);
          return model.loss(t, out, tags);
        }, static_cast<double>(batch_tokens));
        correct += batch_correct;
        tokens += batch_tokens;
        loss_sum += r.loss * static_cast<double>(batch_tokens);
        seen += static_cast<int64_t>(global.size());
        progress.update(seen, loss_sum / static_cast<double>(std::max<int64_t>(tokens, 1)),
                        static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(tokens, 1)));
      }
      const double secs = progress.elapsed();
      double sums[3] = {loss_sum, static_cast<double>(correct), static_cast<double>(tokens)};
      dp.sum(sums, 3);  // the epoch's figures over every rank
      train_loss = sums[0] / sums[2];
      const double train_acc = sums[1] / sums[2];
      tokens = static_cast<int64_t>(sums[2]);
      seconds_training += secs;
      sequences += seen;
      const double dev_acc = accuracy(model, tape, dev, mode, dp);
      progress.finish(train_loss, train_acc, fmt::format("  {:.0f} tokens/s  dev acc {:.4f}", tokens / secs, dev_acc));
      metrics.row({{"epoch", epoch}, {"train_loss", train_loss}, {"train_accuracy", train_acc}, {"dev_accuracy", dev_acc},
                   {"seconds", secs}, {"sequences_per_second", seen / secs}, {"tokens_per_second", tokens / secs}});
      // Model selection on dev; the checkpoint (with the vocabulary) holds the state to resume from.
      run.end_epoch(epoch, store, adam, init_rng, shuffle_rng, dev_acc,
                    {{"train_loss", train_loss}, {"train_accuracy", train_acc}, {"dev_accuracy", dev_acc}}, config, &vocab);
    }
    run.restore_best(store);
    const double test_acc = accuracy(model, tape, test, mode, dp);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("best dev accuracy {:.4f}, test accuracy {:.4f}, {:.1f}s in all", run.best_dev, test_acc, total);
    if (!dp.root()) return 0;
    JsonLine()
        .add("task", std::string("ud_ewt_upos"))
        .add("cell", config.cell)
        .add("layers", config.num_layers)
        .add("bidirectional", static_cast<int64_t>(config.bidirectional))
        .add("epochs", static_cast<int64_t>(epochs))
        .add("train_loss", train_loss)
        .add("dev_accuracy", run.best_dev)
        .add("test_accuracy", test_acc)
        .add("seconds", total)
        .add("sequences_per_second", seconds_training > 0 ? static_cast<double>(sequences) / seconds_training : 0.0)
        .add("ranks", static_cast<int64_t>(dp.size()))
        .add("global_batch", cli.integer("batch"))
        .add("communication_seconds", dp.communication_seconds())
        .print();
    return 0;
  });
}
