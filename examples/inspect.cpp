// Prints what a reel checkpoint holds: format, model configuration, training progress, optimizer,
// vocabulary, and every tensor's shape, mean and standard deviation; then one JSON line.
//
//   inspect run/model.h5          (or: inspect --file run/model.h5)
#include <cstdio>
#include <string>
#include <vector>

#include "examples/example_common.h"
#include "framework/checkpoint.h"

using namespace reel;
using namespace reel::examples;

static std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + ")";
}

int main(int argc, char** argv) {
  Cli cli("inspect", "Print a reel checkpoint's configuration, progress and tensors (inspect FILE, or --file FILE).");
  cli.option("file", "", "checkpoint file (.h5)").option("threads", "1", "BLAS threads (unused; run_main sets them)");
  // A bare first argument is the file.
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() > 1 && args[1].rfind("-", 0) != 0) args.insert(args.begin() + 1, "--file");
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  return run_main(cli, static_cast<int>(av.size()), av.data(), [&] {
    const std::string path = cli.str("file");
    if (path.empty()) throw UsageError("inspect: no checkpoint given (inspect FILE, or --file FILE)");
    const CheckpointSummary s = inspect_checkpoint(path);
    const SequenceModelConfig& c = s.config;
    const TrainingState& p = s.progress;
    std::printf("%s: %lld bytes, %s, format %lld, written by reel %s, %s\n", path.c_str(), static_cast<long long>(s.file_bytes),
                s.sealed ? "sealed (CRC-32 verified)" : "unsealed", static_cast<long long>(s.format_version), s.reel_version.c_str(),
                s.dtype.c_str());
    std::printf("model: %s, %s %lld, hidden %lld (%s), %lld classes\n", c.kind.c_str(), c.vocab_size > 0 ? "vocabulary" : "input dim",
                static_cast<long long>(c.vocab_size > 0 ? c.vocab_size : c.input_dim), static_cast<long long>(c.hidden_dim),
                c.activation.c_str(), static_cast<long long>(c.num_classes));
    if (c.vocab_size > 0) std::printf("       embedding dim %lld\n", static_cast<long long>(c.embed_dim));
    std::printf("progress: epoch %lld, global step %lld, batch in epoch %lld, best dev %g\n", static_cast<long long>(p.epoch),
                static_cast<long long>(p.global_step), static_cast<long long>(p.batch_in_epoch), p.best_dev);
    for (const auto& [name, v] : p.metrics) std::printf("  metric %s = %g\n", name.c_str(), v);
    for (const auto& [name, st] : p.rng) std::printf("  rng %s = %016llx...\n", name.c_str(), static_cast<unsigned long long>(st[0]));
    if (s.optimizer_kind.empty()) {
      std::printf("optimizer: none saved\n");
    } else {
      std::printf("optimizer: %s, lr %g, %lld steps", s.optimizer_kind.c_str(), s.optimizer_lr, static_cast<long long>(s.optimizer_steps));
      for (const auto& [k, v] : p.optimizer_hparams) std::printf(", %s %g", k.c_str(), v);
      std::printf("\n");
    }
    std::printf("vocabulary: %s\n", s.vocab_size > 0 ? (std::to_string(s.vocab_size) + " words").c_str() : "none saved");
    std::printf("%-36s %-8s %-14s %12s %12s %12s %12s\n", "tensor", "dtype", "shape", "mean", "std", "min", "max");
    for (const auto& t : s.tensors)
      std::printf("%-36s %-8s %-14s %12.5g %12.5g %12.5g %12.5g\n", t.name.c_str(), t.dtype.c_str(), dims_str(t.dims).c_str(), t.mean,
                  t.std, t.min, t.max);
    JsonLine()
        .add("file", path)
        .add("bytes", s.file_bytes)
        .add("sealed", static_cast<int64_t>(s.sealed))
        .add("format_version", s.format_version)
        .add("reel_version", s.reel_version)
        .add("dtype", s.dtype)
        .add("kind", c.kind)
        .add("input_dim", c.input_dim)
        .add("vocab_size", c.vocab_size)
        .add("embed_dim", c.embed_dim)
        .add("hidden_dim", c.hidden_dim)
        .add("num_classes", c.num_classes)
        .add("activation", c.activation)
        .add("epoch", p.epoch)
        .add("global_step", p.global_step)
        .add("batch_in_epoch", p.batch_in_epoch)
        .add("best_dev", p.best_dev)
        .add("optimizer", s.optimizer_kind)
        .add("optimizer_steps", s.optimizer_steps)
        .add("tensors", static_cast<int64_t>(s.tensors.size()))
        .add("parameters", s.parameter_count)
        .add("vocabulary", s.vocab_size)
        .print();
    return 0;
  });
}
