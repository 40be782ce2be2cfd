// Grapheme-to-phoneme on the CMU Pronouncing Dictionary (Debian pocketsphinx-en-us): a word's
// letters -> embedding 64 -> encoder (--cell, --layers, --bidirectional; hidden 128) -> bridge ->
// decoder (-> Luong attention with --attention) -> phones. Train/dev/test by data/split.h's hash of
// the word; Adam 2e-3, batch 64, clipping 1.0, teacher forcing (--teacher-forcing ratio); the best
// dev word accuracy (greedy) is kept; test WER and PER, greedy and with --beam, in the JSON line.
#include "examples/example_common.h"
#include "examples/g2p_common.h"
#include "framework/metrics_csv.h"
#include "models/generation_io.h"

using namespace reel;
using namespace reel::examples;

int main(int argc, char** argv) {
  Cli cli("train_g2p", "Train a grapheme-to-phoneme encoder-decoder on CMUdict (letters -> phones), with --attention and --beam.");
  add_core_training_flags(cli, {"", 10, 128, 64, 2e-3, "lstm"});
  cli.option("dict", kCmudictPath, "the CMU dictionary (pocketsphinx or cmudict-0.7b format)");
  cli.option("embed", "64", "letter and phone embedding size").integer_in(1, 16384);
  cli.flag("attention", "Luong attention over the encoder's outputs");
  cli.option("teacher-forcing", "1", "probability of reading the gold previous phone (coin per step)").number_in(0, 1);
  cli.option("mode", "padded", "the encoder's batch layout: padded or packed (the same values)");
  cli.option("beam", "5", "beam width for the final test decoding").integer_in(1, 256);
  cli.option("limit", "0", "train on the first N training words only (0: all)").integer_in(0, 1 << 30);
  cli.option("eval-limit", "0", "score only the first N dev and test words, in hash order (0: all)").integer_in(0, 1 << 30);
  return run_main(cli, argc, argv, [&] {
    Stopwatch total;
    const G2PTask task = g2p_task(read_cmudict(cli.str("dict")), cli.integer("limit"));
    spdlog::info("CMUdict: {} training pairs, {} dev and {} test words; {} letters, {} phones", task.train_src.size(),
                 task.dev.words.size(), task.test.words.size(), task.letters.size() - 2, task.phones.size() - 4);
    Seq2SeqConfig config;
    config.src_vocab = task.letters.size(), config.tgt_vocab = task.phones.size(), config.embed_dim = cli.integer("embed");
    config.hidden_dim = cli.integer("hidden"), config.cell = cli.str("cell"), config.num_layers = cli.integer("layers");
    config.bidirectional = cli.on("bidirectional"), config.attention = cli.on("attention");
    ParameterStore<float> store;
    Rng init_rng(static_cast<uint64_t>(cli.integer("seed")));
    EncoderDecoder<float> model(store, config, init_rng);
    spdlog::info("{}", describe_seq2seq(config));
    Adam<float> adam(store.all(), adam_options(cli));
    Trainer<float> trainer(store, adam, trainer_options(cli));
    DataLoader<float> loader(task.train_src, {cli.integer("batch"), true, true}, cli.integer("seed") + 0x5eed);
    CheckpointManager ckpt(cli.str("checkpoint"), best_by("dev_word_accuracy"));
    TrainingState st = start_checkpoints(cli, ckpt, store, adam, loader);
    Rng coin(static_cast<uint64_t>(cli.integer("seed")) + 0xc0171);
    if (auto it = st.rng.find("teacher_forcing"); it != st.rng.end()) coin.set_state(it->second);
    MetricsCsv csv(cli.str("metrics"), !cli.str("resume").empty(), st.epoch);
    const int64_t max_len = task.max_phones + 5;
    const double ratio = cli.number("teacher-forcing");
    const BatchMode mode = parse_batch_mode(cli.str("mode"));
    Tape<float> tape;
    Throughput speed;
    const int64_t first_epoch = st.epoch + 1;
    for (int64_t epoch = first_epoch; epoch <= cli.integer("epochs"); ++epoch) {
      Progress progress("words", task.train_src.size(), static_cast<int>(epoch), static_cast<int>(cli.integer("epochs")));
      double loss_sum = 0, tokens = 0;
      for (SequenceBatch<float> b; loader.next(b);) {
        const PairBatch<float> p = with_targets(std::move(b), task.train_tgt);
        const double n = static_cast<double>(p.target.tokens() + p.target.batch);  // phones and each </s>
        loss_sum += n * trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, p, ratio, &coin, mode); }, n).loss;
        tokens += n;
        progress.update(std::min(loader.position() * cli.integer("batch"), task.train_src.size()), {{"loss", loss_sum / tokens}});
      }
      const double secs = progress.elapsed();
      speed.add(static_cast<double>(task.train_src.size()), secs);
      const ErrorRates dev = score_split(model, tape, task.dev, 1, max_len, cli.integer("eval-limit"));
      const Metrics m = {{"train_loss", loss_sum / tokens}, {"dev_wer", dev.wer()}, {"dev_per", dev.per()}, {"dev_word_accuracy", 1 - dev.wer()}};
      progress.finish(m, fmt::format("  {:.0f} words/s", task.train_src.size() / secs));
      csv.row({{"epoch", epoch}, m[0], m[1], m[2], m[3], {"seconds", secs}, {"sequences_per_second", task.train_src.size() / secs}});
      st.global_step = adam.steps();
      st.metrics = {m.begin(), m.end()};
      st.rng["teacher_forcing"] = coin.state();
      loader.save(st);
      ckpt.save(store, &adam, st, seq2seq_groups(config, task.letters, task.phones));
    }
    ckpt.restore_best(store);
    Stopwatch decode;
    const int64_t eval_limit = cli.integer("eval-limit");
    const ErrorRates greedy = score_split(model, tape, task.test, 1, max_len, eval_limit);
    const double greedy_secs = decode.seconds();
    const ErrorRates beam = score_split(model, tape, task.test, cli.integer("beam"), max_len, eval_limit);
    spdlog::info("test: greedy WER {:.4f} PER {:.4f}; beam {} WER {:.4f} PER {:.4f}; {:.1f}s in all", greedy.wer(), greedy.per(),
                 cli.integer("beam"), beam.wer(), beam.per(), total.seconds());
    JsonLine j;
    j.add("task", std::string("cmudict_g2p")).add("cell", config.cell).add("layers", config.num_layers);
    j.add("bidirectional", static_cast<int64_t>(config.bidirectional)).add("attention", static_cast<int64_t>(config.attention));
    j.add("hidden", config.hidden_dim).add("epochs", cli.integer("epochs")).add("seed", cli.integer("seed"));
    j.add("train_pairs", task.train_src.size()).add("test_words", greedy.words).add("dev_word_accuracy", st.best_dev);
    j.add("test_wer_greedy", greedy.wer()).add("test_per_greedy", greedy.per()).add("beam", cli.integer("beam"));
    j.add("test_wer_beam", beam.wer()).add("test_per_beam", beam.per()).add("greedy_decode_seconds", greedy_secs);
    j.add("seconds_per_epoch", speed.seconds / static_cast<double>(cli.integer("epochs") - first_epoch + 1)).add("seconds", total.seconds());
    j.add("words_per_second", speed.per_second());
    j.print();
    return 0;
  });
}
