// Conditional word generation from Debian's word lists: the language (a learned category
// embedding) -> h0 = tanh(Linear) -> a recurrent generator over code points (--cell, default gru,
// hidden 128) -> the next symbol. Teacher-forced next-symbol loss, Adam 2e-3, batch 64; the best dev
// bits per character is kept. At the end: test bits per character, and 1,000 samples per language
// (--samples, --temperature): the share that are real words of the language not seen in training,
// copied from training, and malformed (empty, cut at --max-len, or holding <pad>/<unk>/<s>).
#include <cmath>

#include "examples/example_common.h"
#include "examples/generator_common.h"
#include "framework/metrics_csv.h"
#include "models/generation_io.h"

using namespace reel;
using namespace reel::examples;

// Bits per symbol (each word's characters and its </s>) over a split.
static double bits_per_char(const Generator<float>& m, Tape<float>& tape, const SequenceDataset<float>& d) {
  DataLoader<float> loader(d, {512});
  double nats = 0, n = 0;
  for_each_batch_no_grad(tape, loader, [&](Tape<float>& t, const SequenceBatch<float>& b) {
    const double k = static_cast<double>(b.tokens() + b.batch);
    nats += k * m.loss(t, m.category_context(t, b.labels), b).data()[0];
    n += k;
  });
  return nats / n / std::log(2.0);
}

int main(int argc, char** argv) {
  Cli cli("train_generator", "Train a per-language word generator on Debian's word lists (en fr de es), then sample from it.");
  add_core_training_flags(cli, {"", 10, 128, 64, 2e-3, "gru"});
  cli.option("languages", "en,fr,de,es", "comma-separated languages (categories, in this order)");
  cli.option("per-language", "20000", "training words per language, by smallest hash (0: every one)").integer_in(0, 1 << 30);
  cli.option("embed", "32", "symbol embedding size").integer_in(1, 16384);
  cli.option("context", "32", "category embedding (context) size").integer_in(1, 16384);
  cli.option("samples", "1000", "words sampled per language at the end").integer_in(0, 1 << 20);
  cli.option("temperature", "1.0", "sampling temperature").number_in(1e-3, 100);
  cli.option("max-len", "30", "symbols at most per sampled word").integer_in(1, 1000);
  return run_main(cli, argc, argv, [&] {
    Stopwatch total;
    const WordTask task = word_task(split_words(cli.str("languages"), ','), cli.integer("per-language"));
    spdlog::info("word lists: {} / {} / {} words in {} languages, {} symbols", task.train.size(), task.dev.size(), task.test.size(),
                 task.languages.size(), task.symbols.size() - 4);
    GeneratorConfig config;
    config.vocab = task.symbols.size(), config.num_categories = static_cast<int64_t>(task.languages.size());
    config.context_dim = cli.integer("context"), config.embed_dim = cli.integer("embed"), config.hidden_dim = cli.integer("hidden");
    config.cell = cli.str("cell"), config.num_layers = cli.integer("layers");
    if (cli.on("bidirectional")) throw UsageError("--bidirectional: a generator reads left to right only");
    ParameterStore<float> store;
    Rng init_rng(static_cast<uint64_t>(cli.integer("seed")));
    Generator<float> model(store, config, init_rng);
    Adam<float> adam(store.all(), adam_options(cli));
    Trainer<float> trainer(store, adam, trainer_options(cli));
    DataLoader<float> loader(task.train, {cli.integer("batch"), true, true}, cli.integer("seed") + 0x5eed);
    CheckpointPolicy policy = best_by("dev_bits_per_char");
    policy.higher_is_better = false;
    CheckpointManager ckpt(cli.str("checkpoint"), policy);
    TrainingState st = start_checkpoints(cli, ckpt, store, adam, loader);
    MetricsCsv csv(cli.str("metrics"), !cli.str("resume").empty(), st.epoch);
    Tape<float> tape;
    Throughput speed;
    const int64_t first_epoch = st.epoch + 1;
    for (int64_t epoch = first_epoch; epoch <= cli.integer("epochs"); ++epoch) {
      Progress progress("words", task.train.size(), static_cast<int>(epoch), static_cast<int>(cli.integer("epochs")));
      double nats = 0, n = 0;
      for (SequenceBatch<float> b; loader.next(b);) {
        const double k = static_cast<double>(b.tokens() + b.batch);
        nats += k * trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, model.category_context(t, b.labels), b); }, k).loss;
        n += k;
        progress.update(std::min(loader.position() * cli.integer("batch"), task.train.size()), {{"loss", nats / n}});
      }
      const double secs = progress.elapsed();
      speed.add(static_cast<double>(task.train.size()), secs);
      const double dev_bpc = bits_per_char(model, tape, task.dev);
      const Metrics m = {{"train_bits_per_char", nats / n / std::log(2.0)}, {"dev_bits_per_char", dev_bpc}};
      progress.finish(m, fmt::format("  {:.0f} words/s", task.train.size() / secs));
      csv.row({{"epoch", epoch}, m[0], m[1], {"seconds", secs}, {"sequences_per_second", task.train.size() / secs}});
      st.global_step = adam.steps();
      st.metrics = {m.begin(), m.end()};
      loader.save(st);
      ckpt.save(store, &adam, st, generator_groups(config, task.symbols, task.languages));
    }
    ckpt.restore_best(store);
    const double test_bpc = bits_per_char(model, tape, task.test);
    JsonLine j;
    j.add("task", std::string("word_generation")).add("cell", config.cell).add("hidden", config.hidden_dim);
    j.add("epochs", cli.integer("epochs")).add("seed", cli.integer("seed")).add("train_words", task.train.size());
    j.add("dev_bits_per_char", st.best_dev).add("test_bits_per_char", test_bpc);
    Rng sampler(static_cast<uint64_t>(cli.integer("seed")) + 0x5a3b1e);
    for (size_t l = 0; l < task.languages.size() && cli.integer("samples") > 0; ++l) {
      tape.clear();
      NoGradGuard<float> no_grad(tape);
      const std::vector<int64_t> cats(static_cast<size_t>(cli.integer("samples")), static_cast<int64_t>(l));
      const Generated g = model.generate(tape, model.category_context(tape, cats),
                                         GenerateOptions{cli.integer("max-len"), {cli.number("temperature"), 0}}, sampler);
      int64_t novel = 0, copied = 0, malformed = 0;
      std::string examples;
      for (size_t i = 0; i < g.tokens.size(); ++i) {
        bool special = false;
        const std::string w = word_text(task.symbols, g.tokens[i], &special);
        if (special || w.empty() || !g.ended[i]) ++malformed;
        else if (task.train_words[l].count(w)) ++copied;
        else if (task.all_words[l].count(w)) ++novel;
        if (i < 8) examples += (i ? " " : "") + w;
      }
      const double s = static_cast<double>(g.tokens.size());
      spdlog::info("{}: {:.1f}% real unseen words, {:.1f}% copied from training, {:.1f}% malformed; e.g. {}", task.languages[l],
                   100 * novel / s, 100 * copied / s, 100 * malformed / s, examples);
      j.add(task.languages[l] + "_novel_real", novel / s).add(task.languages[l] + "_copied", copied / s);
      j.add(task.languages[l] + "_malformed", malformed / s);
    }
    j.add("seconds_per_epoch", speed.seconds / static_cast<double>(cli.integer("epochs") - first_epoch + 1));
    j.add("words_per_second", speed.per_second()).add("seconds", total.seconds());
    j.print();
    return 0;
  });
}
