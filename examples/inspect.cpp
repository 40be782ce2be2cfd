// Prints what a reel checkpoint holds: format, model configuration, every attribute group,
// training progress, optimizer (with its hyperparameters), and every tensor's shape, mean and
// standard deviation; then one JSON line.
//
//   inspect run/model.h5          (or: inspect --file run/model.h5)
#include <cstdio>
#include <string>
#include <vector>

#include "data/vocab_io.h"
#include "examples/example_common.h"
#include "framework/checkpoint.h"
#include "models/generation_io.h"
#include "models/model_io.h"

using namespace reel;
using namespace reel::examples;

static std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + ")";
}

// "model: ..." from /config when it describes a model, and every group's attributes as they are.
static void print_groups(const CheckpointSummary& s) {
  if (s.groups.count(kModelConfigGroup)) {
    try {
      std::printf("model: %s\n", describe_any_model(s).c_str());
    } catch (const CheckpointError& e) {
      std::printf("model: /config describes no model this reel can build (%s)\n", e.what());
    }
  } else {
    std::printf("model: none (no /config group)\n");
  }
  for (const auto& [name, g] : s.groups) {
    std::string line;
    for (const auto& [k, v] : g.attributes()) line += (line.empty() ? "" : ", ") + k + " " + to_string(v);
    for (const auto& [k, list] : g.string_lists())
      line += (line.empty() ? "" : ", ") + k + " [" + std::to_string(list.size()) + " strings]";
    std::printf("/%s: %s\n", name.c_str(), line.c_str());
  }
}

static void print_progress(const CheckpointSummary& s) {
  const TrainingState& p = s.progress;
  std::printf("progress: epoch %lld, global step %lld, batch in epoch %lld, best dev %g\n", static_cast<long long>(p.epoch),
              static_cast<long long>(p.global_step), static_cast<long long>(p.batch_in_epoch), p.best_dev);
  for (const auto& [name, v] : p.metrics) std::printf("  metric %s = %g\n", name.c_str(), v);
  for (const auto& [name, st] : p.rng) std::printf("  rng %s = %016llx...\n", name.c_str(), static_cast<unsigned long long>(st[0]));
  if (s.optimizer_kind.empty()) {
    std::printf("optimizer: none saved\n");
    return;
  }
  std::printf("optimizer: %s, lr %g, %lld steps", s.optimizer_kind.c_str(), s.optimizer_lr, static_cast<long long>(s.optimizer_steps));
  for (const auto& [k, v] : s.optimizer_hyperparameters) std::printf(", %s %g", k.c_str(), v);
  std::printf("\n");
}

static void print_json(const CheckpointSummary& s, int64_t vocab_words) {
  const TrainingState& p = s.progress;
  JsonLine j;
  j.add("file", s.path).add("bytes", s.file_bytes).add("sealed", static_cast<int64_t>(s.sealed));
  j.add("format_version", s.format_version).add("reel_version", s.reel_version).add("dtype", s.dtype);
  if (auto it = s.groups.find(kModelConfigGroup); it != s.groups.end())  // the configuration as stored
    for (const auto& [k, v] : it->second.attributes()) {
      if (std::holds_alternative<int64_t>(v)) j.add(k, std::get<int64_t>(v));
      else if (std::holds_alternative<double>(v)) j.add(k, std::get<double>(v));
      else j.add(k, std::get<std::string>(v));
    }
  j.add("epoch", p.epoch).add("global_step", p.global_step).add("batch_in_epoch", p.batch_in_epoch).add("best_dev", p.best_dev);
  j.add("optimizer", s.optimizer_kind).add("optimizer_steps", s.optimizer_steps);
  j.add("tensors", static_cast<int64_t>(s.tensors.size())).add("parameters", s.parameter_count).add("vocabulary", vocab_words);
  j.print();
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
    std::printf("%s: %lld bytes, %s, format %lld, written by reel %s, %s\n", path.c_str(), static_cast<long long>(s.file_bytes),
                s.sealed ? "sealed (CRC-32 verified)" : "unsealed", static_cast<long long>(s.format_version), s.reel_version.c_str(),
                s.dtype.c_str());
    print_groups(s);
    print_progress(s);
    int64_t words = 0;
    if (auto v = s.groups.find(kVocabGroup); v != s.groups.end() && v->second.has_strings("words"))
      words = static_cast<int64_t>(v->second.get_strings("words").size());
    std::printf("vocabulary: %s\n", words > 0 ? (std::to_string(words) + " words").c_str() : "none saved");
    std::printf("%-36s %-8s %-14s %12s %12s %12s %12s\n", "tensor", "dtype", "shape", "mean", "std", "min", "max");
    for (const auto& t : s.tensors)
      std::printf("%-36s %-8s %-14s %12.5g %12.5g %12.5g %12.5g\n", t.name.c_str(), t.dtype.c_str(), dims_str(t.dims).c_str(), t.mean,
                  t.std, t.min, t.max);
    print_json(s, words);
    return 0;
  });
}
