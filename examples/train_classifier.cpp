// Fashion-MNIST read row by row (28 steps x 28 features) by recurrent layers (vanilla tanh by
// default; --cell lstm|gru, --layers N, --bidirectional; hidden 128) and a linear head: Adam 1e-3,
// batch 128, gradient clipping 1.0. The last 5000 training images are
// the dev set; the reported test accuracy is the model with the best dev accuracy.
#include <algorithm>
#include <chrono>

#include "data/batching.h"
#include "data/idx.h"
#include "examples/example_common.h"
#include "examples/run_state.h"
#include "framework/optim/optimizer.h"
#include "framework/metrics_csv.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"

using namespace reel;
using namespace reel::examples;

// Images idx[0..) as a batch of 28-step sequences of 28 features.
static SequenceBatch<float> make_batch(const ImageDataset& d, const std::vector<int64_t>& idx) {
  SequenceBatch<float> b;
  b.batch = static_cast<int64_t>(idx.size());
  b.max_len = d.rows;
  b.features = d.cols;
  b.lengths.assign(idx.size(), d.rows);
  const int64_t per = d.rows * d.cols;
  for (int64_t i : idx) b.values.insert(b.values.end(), d.pixels.begin() + i * per, d.pixels.begin() + (i + 1) * per);
  return b;
}

// Accuracy over images [begin, end) in inference mode.
// With --distributed each rank takes every size()-th chunk of 1000.
static double accuracy(const SequenceClassifier<float>& model, Tape<float>& tape, const ImageDataset& d,
                       int64_t begin, int64_t end, BatchMode mode, DataParallel& dp) {
  NoGradGuard<float> no_grad(tape);
  double correct = 0;
  for (int64_t i = begin + 1000 * dp.rank(); i < end; i += 1000 * dp.size()) {
    std::vector<int64_t> idx(static_cast<size_t>(std::min<int64_t>(1000, end - i)));
    for (size_t k = 0; k < idx.size(); ++k) idx[k] = i + static_cast<int64_t>(k);
    tape.clear();
    auto pred = argmax_rows(model.logits(tape, make_batch(d, idx), mode));
    for (size_t k = 0; k < idx.size(); ++k) correct += pred[k] == d.labels[static_cast<size_t>(idx[k])];
  }
  dp.sum(&correct, 1);
  return end > begin ? correct / static_cast<double>(end - begin) : 0.0;
}

int main(int argc, char** argv) {
  Cli cli("train_classifier", "Train a row-by-row Fashion-MNIST classifier (any cell: --cell, --layers, --bidirectional).");
  add_training_flags(cli, {kFashionMnistDir, 1, 128, 128, 1e-3});
  cli.option("dev-size", "5000", "training images held out as the dev set");
  cli.option("limit", "-1", "use only the first N training and test images (quick runs)");
  return run_main(cli, argc, argv, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    DataParallel dp(cli);
    ImageDataset train = load_fashion_mnist(cli.str("data"), "train", cli.integer("limit"));
    ImageDataset test = load_fashion_mnist(cli.str("data"), "test", cli.integer("limit"));
    const int64_t dev_n = std::clamp<int64_t>(cli.integer("dev-size"), 0, train.n / 2);
    const int64_t train_n = train.n - dev_n;
    spdlog::info("Fashion-MNIST: {} train, {} dev, {} test images; BLAS {}", train_n, dev_n, test.n, blas::describe());

    const uint64_t seed = static_cast<uint64_t>(cli.integer("seed"));
    Rng init_rng(seed), shuffle_rng(seed + 0x5eed);
    SequenceModelConfig config;
    config.input_dim = train.cols;
    config.hidden_dim = cli.integer("hidden");
    config.num_classes = 10;
    set_recurrence(cli, config);
    ParameterStore<float> store;
    SequenceClassifier<float> model(store, config, init_rng);
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
    const uint64_t data_hash = distributed::fnv1a(train.labels.data(), train.labels.size() * sizeof(train.labels[0]));
    dp.attach(trainer, store, training_facts(cli, config, std::to_string(train_n) + "+" + std::to_string(dev_n) +
                                                              " images, label hash " + std::to_string(data_hash)));

    Tape<float> tape;
    const int epochs = static_cast<int>(cli.integer("epochs"));
    double train_loss = 0, seconds_training = 0;
    int64_t sequences = 0;
    for (int epoch = run.first_epoch; epoch <= epochs; ++epoch) {
      auto batches = make_batches(std::vector<int64_t>(static_cast<size_t>(train_n), train.rows), cli.integer("batch"),
                                  shuffle_rng, true, false);
      Progress progress("seq", train_n, epoch, epochs);
      double loss_sum = 0;
      int64_t seen = 0, mine = 0, correct = 0;
      for (const auto& global : batches) {
        const std::vector<int64_t> idx = dp.shard(global);  // all of it in one process
        SequenceBatch<float> batch = make_batch(train, idx);
        std::vector<int64_t> labels;
        for (int64_t i : idx) labels.push_back(train.labels[static_cast<size_t>(i)]);
        std::vector<int64_t> pred;
        StepResult r = trainer.step(tape, [&](Tape<float>& t) {
          Var<float> logits = model.logits(t, batch, mode);
          pred = argmax_rows(logits);
          return model.loss(t, logits, labels);
        }, static_cast<double>(idx.size()));
        for (size_t k = 0; k < idx.size(); ++k) correct += pred[k] == labels[k];
        loss_sum += r.loss * static_cast<double>(idx.size());
        mine += static_cast<int64_t>(idx.size());
        seen += static_cast<int64_t>(global.size());
        progress.update(seen, loss_sum / static_cast<double>(std::max<int64_t>(mine, 1)),
                        static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(mine, 1)));
      }
      double sums[2] = {loss_sum, static_cast<double>(correct)};
      dp.sum(sums, 2);  // the epoch's figures over every rank
      train_loss = sums[0] / static_cast<double>(seen);
      const double train_acc = sums[1] / static_cast<double>(seen);
      const double secs = progress.elapsed();
      seconds_training += secs;
      sequences += seen;
      const double dev_acc = accuracy(model, tape, train, train_n, train.n, mode, dp);
      progress.finish(train_loss, train_acc, fmt::format("  dev acc {:.4f}", dev_acc));
      metrics.row({{"epoch", epoch}, {"train_loss", train_loss}, {"train_accuracy", train_acc},
                   {"dev_accuracy", dev_acc}, {"seconds", secs}, {"sequences_per_second", seen / secs}});
      // Model selection on dev; the checkpoint holds the state to resume from.
      run.end_epoch(epoch, store, adam, init_rng, shuffle_rng, dev_acc,
                    {{"train_loss", train_loss}, {"train_accuracy", train_acc}, {"dev_accuracy", dev_acc}}, config, nullptr);
    }
    run.restore_best(store);
    const double test_acc = accuracy(model, tape, test, 0, test.n, mode, dp);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("best dev accuracy {:.4f}, test accuracy {:.4f}, {:.1f}s in all", run.best_dev, test_acc, total);
    if (!dp.root()) return 0;
    JsonLine()
        .add("task", std::string("fashion_mnist_rowwise"))
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
