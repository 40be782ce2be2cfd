// UPOS tagging of UD English EWT: lower-cased words (count >= 2, the rest <unk>) -> embedding 100
// -> recurrent layers (--cell rnn|lstm|gru, --layers, --bidirectional; hidden 128) -> a linear head
// over 17 tags at every token. Adam 1e-3, batch 32, clipping 1.0, packed batches (--bucket: of
// similar lengths), model selection on dev; --distributed: data-parallel under mpirun.
#include "data/conllu.h"
#include "examples/example_common.h"
#include "framework/metrics_csv.h"

using namespace reel;
using namespace reel::examples;

// Token accuracy over a split, each rank taking its share of every batch.
static double accuracy(const SequenceTagger<float>& m, Tape<float>& tape, const SequenceDataset<float>& d, BatchMode mode,
                       DataParallel& dp) {
  DataLoader<float> loader(d, {256});
  loader.shard(dp.rank(), dp.size());
  double correct = 0;
  for_each_batch_no_grad(tape, loader, [&](Tape<float>& t, const SequenceBatch<float>& b) { correct += m.forward(t, b, mode).correct(b.tags); });
  dp.sum(&correct, 1);
  return correct / static_cast<double>(d.tokens());
}

int main(int argc, char** argv) {
  Cli cli("train_tagger", "Train a UPOS tagger on UD English EWT (embedding + recurrent layers: --cell, --layers, --bidirectional).");
  add_training_flags(cli, {"data/ud-english-ewt", 2, 128, 32, 1e-3});
  cli.option("embed", "100", "embedding size").integer_in(1, 16384);
  cli.option("min-count", "2", "vocabulary minimum word count").integer_in(1, 1000000000);
  cli.option("bucket", "0", "1: batches of similar lengths (less padding, faster); 0: random batches").integer_in(0, 1);
  return run_main(cli, argc, argv, [&] {
    Stopwatch total;
    DataParallel dp(cli);
    const std::string dir = find_data(cli.str("data")) + "/en_ewt-ud-";
    const auto train_s = read_conllu(dir + "train.conllu.gz");
    const Vocab vocab = Vocab::from_sentences(words_of(train_s), cli.integer("min-count"), /*lowercase=*/true);
    const auto train = upos_dataset<float>("train", train_s, vocab), dev = upos_dataset<float>("dev", read_conllu(dir + "dev.conllu.gz"), vocab),
               test = upos_dataset<float>("test", read_conllu(dir + "test.conllu.gz"), vocab);
    spdlog::info("UD EWT: {} / {} / {} sentences, {} train tokens, vocabulary {}", train.size(), dev.size(), test.size(), train.tokens(), vocab.size());
    SequenceModelConfig config = model_config(cli, "tagger", 0, static_cast<int64_t>(upos_tags().size()));
    config.vocab_size = vocab.size();
    config.embed_dim = cli.integer("embed");
    ParameterStore<float> store;
    Rng init_rng(static_cast<uint64_t>(cli.integer("seed")));
    SequenceTagger<float> model(store, config, init_rng);
    Adam<float> adam(store.all(), adam_options(cli));
    Trainer<float> trainer(store, adam, trainer_options(cli));
    DataLoader<float> loader(train, {cli.integer("batch"), true, cli.integer("bucket") != 0}, cli.integer("seed") + 0x5eed);
    loader.shard(dp.rank(), dp.size());
    CheckpointManager ckpt(dp.root_only(cli.str("checkpoint")), best_by("dev_accuracy"));
    TrainingState st = start_checkpoints(cli, ckpt, store, adam, loader);
    MetricsCsv csv(dp.root_only(cli.str("metrics")), /*append=*/!cli.str("resume").empty(), /*keep_through_epoch=*/st.epoch);
    dp.attach(trainer, store, training_facts(cli, config, std::to_string(train.size()) + " sentences, " + std::to_string(train.tokens()) + " tokens"));
    const BatchMode mode = parse_batch_mode(cli.str("mode"));
    Tape<float> tape;
    Throughput speed;
    for (int64_t epoch = st.epoch + 1; epoch <= cli.integer("epochs"); ++epoch) {
      Progress progress("sent", train.size(), static_cast<int>(epoch), static_cast<int>(cli.integer("epochs")));
      double sums[3] = {0, 0, 0};  // loss x tokens, correct tokens, tokens (this rank's, then every rank's)
      for (SequenceBatch<float> b; loader.next(b);) {
        const double loss = trainer.step(tape, [&](Tape<float>& t) {
          TaggerOutput<float> out = model.forward(t, b, mode);
          sums[1] += static_cast<double>(out.correct(b.tags));
          return model.loss(t, out, b.tags);
        }, static_cast<double>(b.tokens())).loss;
        sums[0] += loss * static_cast<double>(b.tokens());
        sums[2] += static_cast<double>(b.tokens());
        progress.update(loader.position() * cli.integer("batch"), {{"loss", loss}});
      }
      const double secs = progress.elapsed();
      dp.sum(sums, 3);
      speed.add(static_cast<double>(train.size()), secs);
      const Metrics m = {{"train_loss", sums[0] / sums[2]}, {"train_accuracy", sums[1] / sums[2]}, {"dev_accuracy", accuracy(model, tape, dev, mode, dp)}};
      progress.finish(m, fmt::format("  {:.0f} tokens/s", sums[2] / secs));
      csv.row({{"epoch", epoch}, m[0], m[1], m[2], {"seconds", secs}, {"sequences_per_second", train.size() / secs}, {"tokens_per_second", sums[2] / secs}});
      st.global_step = adam.steps();
      st.metrics = {m.begin(), m.end()};
      loader.save(st);
      ckpt.save(store, &adam, st, model_groups(config, &vocab));
    }
    ckpt.restore_best(store);
    const double test_acc = accuracy(model, tape, test, mode, dp);
    spdlog::info("best dev accuracy {:.4f}, test accuracy {:.4f}, {:.1f}s in all", st.best_dev, test_acc, total.seconds());
    if (dp.root()) result_line(cli, config, dp, "ud_ewt_upos", st, test_acc, total.seconds(), speed).print();
    return 0;
  });
}
