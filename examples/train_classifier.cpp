// Fashion-MNIST read row by row (28 steps x 28 features) by recurrent layers (--cell rnn|lstm|gru,
// --layers, --bidirectional; hidden 128) and a linear head: Adam 1e-3, batch 128, clipping 1.0.
// The last 5000 training images are the dev set; the reported test accuracy is the model with the
// best dev accuracy. --distributed: data-parallel under mpirun.
#include <algorithm>

#include "data/idx.h"
#include "examples/example_common.h"
#include "framework/metrics_csv.h"

using namespace reel;
using namespace reel::examples;

// Accuracy over a split, each rank taking its share of every batch.
static double accuracy(const SequenceClassifier<float>& m, Tape<float>& tape, const SequenceDataset<float>& d, BatchMode mode,
                       DataParallel& dp) {
  DataLoader<float> loader(d, {1000});
  loader.shard(dp.rank(), dp.size());
  double correct = 0;
  for_each_batch_no_grad(tape, loader, [&](Tape<float>& t, const SequenceBatch<float>& b) {
    correct += static_cast<double>(correct_labels(m.logits(t, b, mode), b.labels));
  });
  dp.sum(&correct, 1);
  return correct / static_cast<double>(d.size());
}

int main(int argc, char** argv) {
  Cli cli("train_classifier", "Train a row-by-row Fashion-MNIST classifier (any cell: --cell, --layers, --bidirectional).");
  add_training_flags(cli, {kFashionMnistDir, 1, 128, 128, 1e-3});
  cli.option("dev-size", "5000", "training images held out as the dev set").integer_in(1, 1000000000);
  cli.option("limit", "-1", "use only the first N training and test images (quick runs; -1: all)").integer_in(-1, 1000000000);
  return run_main(cli, argc, argv, [&] {
    Stopwatch total;
    DataParallel dp(cli);
    const ImageDataset images = load_fashion_mnist(find_data(cli.str("data")), "train", cli.integer("limit"));
    const ImageDataset test_images = load_fashion_mnist(find_data(cli.str("data")), "test", cli.integer("limit"));
    const int64_t dev_n = std::clamp<int64_t>(cli.integer("dev-size"), 0, images.n / 2), train_n = images.n - dev_n;
    const auto train = image_rows("train", images, 0, train_n), dev = image_rows("dev", images, train_n, images.n),
               test = image_rows("test", test_images, 0, test_images.n);
    spdlog::info("Fashion-MNIST: {} train, {} dev, {} test images; BLAS {}", train.size(), dev.size(), test.size(), blas::describe());
    const SequenceModelConfig config = model_config(cli, "classifier", images.cols, 10);
    ParameterStore<float> store;
    Rng init_rng(static_cast<uint64_t>(cli.integer("seed")));
    SequenceClassifier<float> model(store, config, init_rng);
    Adam<float> adam(store.all(), adam_options(cli));
    Trainer<float> trainer(store, adam, trainer_options(cli));
    DataLoader<float> loader(train, {cli.integer("batch"), true}, cli.integer("seed") + 0x5eed);
    loader.shard(dp.rank(), dp.size());
    CheckpointManager ckpt(dp.root_only(cli.str("checkpoint")), best_by("dev_accuracy"));
    TrainingState st = start_checkpoints(cli, ckpt, store, adam, loader);
    MetricsCsv csv(dp.root_only(cli.str("metrics")), /*append=*/!cli.str("resume").empty(), /*keep_through_epoch=*/st.epoch);
    dp.attach(trainer, store, training_facts(cli, config, std::to_string(train.size()) + "+" + std::to_string(dev.size()) + " images"));
    const BatchMode mode = parse_batch_mode(cli.str("mode"));
    Tape<float> tape;
    Throughput speed;
    for (int64_t epoch = st.epoch + 1; epoch <= cli.integer("epochs"); ++epoch) {
      Progress progress("seq", train.size(), static_cast<int>(epoch), static_cast<int>(cli.integer("epochs")));
      double sums[2] = {0, 0};  // loss x sequences, correct (this rank's, then every rank's)
      for (SequenceBatch<float> b; loader.next(b);) {
        const double loss = trainer.step(tape, [&](Tape<float>& t) {
          Var<float> logits = model.logits(t, b, mode);
          sums[1] += static_cast<double>(correct_labels(logits, b.labels));
          return model.loss(t, logits, b.labels);
        }, static_cast<double>(b.batch)).loss;
        sums[0] += loss * static_cast<double>(b.batch);
        progress.update(loader.position() * cli.integer("batch"), {{"loss", loss}});
      }
      const double secs = progress.elapsed(), n = static_cast<double>(train.size());
      dp.sum(sums, 2);
      speed.add(n, secs);
      const Metrics m = {{"train_loss", sums[0] / n}, {"train_accuracy", sums[1] / n}, {"dev_accuracy", accuracy(model, tape, dev, mode, dp)}};
      progress.finish(m);
      csv.row({{"epoch", epoch}, m[0], m[1], m[2], {"seconds", secs}, {"sequences_per_second", n / secs}});
      st.global_step = adam.steps();
      st.metrics = {m.begin(), m.end()};
      loader.save(st);
      ckpt.save(store, &adam, st, model_groups(config, nullptr));
    }
    ckpt.restore_best(store);
    const double test_acc = accuracy(model, tape, test, mode, dp);
    spdlog::info("best dev accuracy {:.4f}, test accuracy {:.4f}, {:.1f}s in all", st.best_dev, test_acc, total.seconds());
    if (dp.root()) result_line(cli, config, dp, "fashion_mnist_rowwise", st, test_acc, total.seconds(), speed).print();
    return 0;
  });
}
