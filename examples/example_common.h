#pragma once
// Pieces the training examples share: the common flags, the JSON result line, error handling.
// The training loops themselves stay in each example, readable top to bottom.
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>

#include "framework/blas.h"
#include "examples/data_parallel.h"
#include "data/data_error.h"
#include "data/loader.h"
#include "framework/checkpoint_manager.h"
#include "framework/cli.h"
#include "framework/distributed/mpi.h"
#include "framework/error.h"
#include "framework/log.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"
#include "models/model_io.h"
#include "models/sequence_models.h"

namespace reel::examples {

// A JSON object on one line: keys in insertion order.
class JsonLine {
 public:
  JsonLine& add(const std::string& k, double v) {
    std::ostringstream os;
    os.precision(6);
    os << v;
    return raw(k, os.str());
  }
  JsonLine& add(const std::string& k, int64_t v) { return raw(k, std::to_string(v)); }
  JsonLine& add(const std::string& k, const std::string& v) { return raw(k, "\"" + v + "\""); }
  JsonLine& raw(const std::string& k, const std::string& v) {
    body_ += (body_.empty() ? "" : ",") + ("\"" + k + "\":") + v;
    return *this;
  }
  // To stdout; a result that cannot be written (a full disk, a closed pipe) is an error, not a success.
  void print() const {
    if (std::printf("{%s}\n", body_.c_str()) < 0 || std::fflush(stdout) != 0 || std::ferror(stdout))
      throw std::runtime_error(std::string("cannot write the result line to stdout: ") + std::strerror(errno));
  }

 private:
  std::string body_;
};

struct Defaults {
  std::string data_dir;
  int epochs;
  int64_t hidden;
  int64_t batch;
  double lr;
  std::string cell = "rnn";  // --cell's default
};

// The flags of every training program: optimisation, checkpoints, metrics, the recurrent layers.
inline void add_core_training_flags(Cli& cli, const Defaults& d) {
  cli.option("epochs", std::to_string(d.epochs), "total training epochs").integer_in(1, 100000)
      .option("hidden", std::to_string(d.hidden), "hidden size").integer_in(1, 16384)
      .option("lr", std::to_string(d.lr), "Adam learning rate").number_in(1e-12, 10)
      .option("batch", std::to_string(d.batch), "batch size (with --distributed: the global batch)").integer_in(1, 1 << 20)
      .option("clip", "1.0", "gradient-norm clipping (0: off)").number_in(0, 1e12)
      .option("seed", "1", "random seed (initialisation, shuffling)").integer_in(0, int64_t{1} << 53)
      .option("threads", "1", "BLAS threads").integer_in(1, 256)
      .option("metrics", "", "per-epoch metrics CSV file")
      .option("checkpoint", "", "checkpoint file (.h5) written at every epoch end; best dev model beside it")
      .option("resume", "", "resume training from this checkpoint, or 'latest': the newest good one of --checkpoint")
      .flag("override", "with --resume: --lr given on the command line wins over the checkpoint's")
      .option("cell", d.cell, "recurrent cell: rnn, lstm or gru")
      .option("layers", "1", "stacked recurrent layers").integer_in(1, 64)
      .flag("bidirectional", "a second direction reading each sequence backwards (outputs side by side)")
      .flag("anomaly", "find the op/timestep/row of the first NaN/Inf (slow)");
}

// The core flags plus --data, --mode and the data-parallel ones (the classifier's and tagger's).
inline void add_training_flags(Cli& cli, const Defaults& d) {
  add_core_training_flags(cli, d);
  cli.option("data", d.data_dir, "data directory").option("mode", "packed", "batch layout: packed or padded");
  add_distributed_flags(cli);
}

// What every rank of a --distributed run must share (checked at start-up): the model, the
// optimisation and the data.
inline distributed::Facts training_facts(const Cli& cli, const SequenceModelConfig& c, const std::string& data) {
  distributed::Facts f = {{"cell", c.cell}, {"layers", std::to_string(c.num_layers)},
                          {"bidirectional", std::to_string(c.bidirectional)}, {"hidden_dim", std::to_string(c.hidden_dim)},
                          {"embed_dim", std::to_string(c.embed_dim)}, {"vocab_size", std::to_string(c.vocab_size)},
                          {"input_dim", std::to_string(c.input_dim)}, {"num_classes", std::to_string(c.num_classes)},
                          {"data", data}};
  for (const char* flag : {"epochs", "lr", "batch", "clip", "seed", "mode", "resume", "bucket-kb", "overlap",
                           "deterministic-reduce"})
    f.emplace_back(flag, cli.str(flag));
  return f;
}

// Wall time since construction, and training throughput over epochs.
struct Stopwatch {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};
struct Throughput {
  double items = 0, seconds = 0;
  void add(double n, double secs) { items += n, seconds += secs; }
  double per_second() const { return seconds > 0 ? items / seconds : 0.0; }
};

// A model configuration from --hidden, --cell, --layers, --bidirectional.
inline SequenceModelConfig model_config(const Cli& cli, const std::string& kind, int64_t input_dim, int64_t classes) {
  SequenceModelConfig c;
  c.kind = kind;
  c.input_dim = input_dim;
  c.hidden_dim = cli.integer("hidden");
  c.num_classes = classes;
  c.cell = cli.str("cell");
  c.num_layers = cli.integer("layers");
  c.bidirectional = cli.on("bidirectional");
  return c;
}

// The training examples' closing JSON line.
inline JsonLine result_line(const Cli& cli, const SequenceModelConfig& c, const DataParallel& dp, const std::string& task,
                            const TrainingState& st, double test_acc, double seconds, const Throughput& speed) {
  const auto loss = st.metrics.find("train_loss");
  JsonLine j;
  j.add("task", task).add("cell", c.cell).add("layers", c.num_layers).add("bidirectional", static_cast<int64_t>(c.bidirectional));
  j.add("epochs", cli.integer("epochs")).add("train_loss", loss == st.metrics.end() ? 0.0 : loss->second);
  j.add("dev_accuracy", st.best_dev).add("test_accuracy", test_acc).add("seconds", seconds);
  j.add("sequences_per_second", speed.per_second()).add("ranks", static_cast<int64_t>(dp.size()));
  j.add("global_batch", cli.integer("batch")).add("communication_seconds", dp.communication_seconds());
  return j;
}

// The directory --data names, found wherever the program is started from: as given if it exists;
// a relative path is also looked for under $REEL_DATA, beside the build tree the executable is in
// (<exe>/../../data/), and in the install prefix's share folder (<exe>/../share/reel/data/). Not
// found: a DataError naming every place looked at.
inline std::string find_data(const std::string& given) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (given.empty()) throw UsageError("--data: empty path");
  if (fs::is_directory(given, ec) || fs::path(given).is_absolute()) return given;
  const std::string name = fs::path(given).filename().string();
  std::vector<fs::path> places = {fs::absolute(given, ec)};
  if (const char* env = std::getenv("REEL_DATA")) places.push_back(fs::path(env) / name);
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (!exe.empty()) places.insert(places.end(), {exe / ".." / ".." / "data" / name, exe / ".." / "share" / "reel" / "data" / name});
  for (const fs::path& p : places)
    if (fs::is_directory(p, ec)) return p.lexically_normal().string();
  std::string where;
  for (const fs::path& p : places) where += "\n  " + p.lexically_normal().string();
  throw DataError("--data '" + given + "': no such directory; looked in" + where +
                  (std::getenv("REEL_DATA") ? std::string() : "\n  (and $REEL_DATA/" + name + ", but REEL_DATA is not set)"));
}

// --lr, --clip and --anomaly as the optimizer's and the trainer's options.
inline AdamOptions adam_options(const Cli& cli) {
  AdamOptions o;
  o.lr = cli.number("lr");
  return o;
}
inline TrainerOptions trainer_options(const Cli& cli) {
  TrainerOptions o;
  o.clip_norm = cli.number("clip");
  o.anomaly = cli.on("anomaly");
  return o;
}

// --checkpoint and --resume: a checkpoint every epoch, the best by dev accuracy beside it (rank 0
// writes). --resume FILE continues from FILE, --resume latest from the newest good file of
// --checkpoint; the model, Adam, the step, the loader's position and the best model come back.
// Returns the state to continue from (epoch 0 for a fresh run).
// UsageError if two outputs (or an output and --resume) name the same file: --metrics written into
// a checkpoint would destroy it. Paths are compared after resolving links and "..", and existing
// files by identity (a hard link is the same file).
inline void refuse_aliased_outputs(const Cli& cli, const CheckpointManager& ckpt) {
  namespace fs = std::filesystem;
  auto same = [](const std::string& a, const std::string& b) {
    std::error_code ec;
    if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
    return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
  };
  auto refuse = [](const std::string& what, const std::string& a, const std::string& other, const std::string& b) {
    throw UsageError(what + " '" + a + "' and " + other + " '" + b + "' are the same file: each output needs a file of its own");
  };
  // The checkpoints may be the file resumed from (that is resuming in place); the metrics may be none of them.
  const std::string metrics = cli.str("metrics"), resume = cli.str("resume") == "latest" ? "" : cli.str("resume");
  if (metrics.empty()) return;
  if (!cli.str("checkpoint").empty()) {
    if (same(metrics, cli.str("checkpoint"))) refuse("--metrics", metrics, "--checkpoint", cli.str("checkpoint"));
    if (same(metrics, ckpt.best_path())) refuse("--metrics", metrics, "--checkpoint's best model", ckpt.best_path());
  }
  if (!resume.empty() && same(metrics, resume)) refuse("--metrics", metrics, "--resume", resume);
}

template <class T>
TrainingState start_checkpoints(const Cli& cli, CheckpointManager& ckpt, ParameterStore<T>& store,
                                Adam<T>& adam, DataLoader<T>& loader) {
  refuse_aliased_outputs(cli, ckpt);
  TrainingState st;
  const std::string from = cli.str("resume");
  if (from.empty()) return st;
  if (from == "latest" ? !ckpt.resume(store, &adam, &st) : !ckpt.resume(store, &adam, &st, from))
    throw UsageError("--resume latest: no checkpoint of --checkpoint '" + cli.str("checkpoint") + "' loads");
  loader.restore(st);
  if (st.epoch >= cli.integer("epochs"))
    throw UsageError("--resume " + from + ": the checkpoint is at epoch " + std::to_string(st.epoch) + " already and --epochs is " +
                     std::to_string(cli.integer("epochs")) + ": nothing to train (ask for more --epochs)");
  if (cli.given("lr") && adam.lr() != cli.number("lr")) {
    if (!cli.on("override"))
      throw UsageError("--lr " + cli.str("lr") + " contradicts the checkpoint's learning rate " + std::to_string(adam.lr()) +
                       " (the file's wins on --resume; pass --override to use --lr)");
    spdlog::warn("--override: --lr {} replaces the checkpoint's learning rate {}", cli.number("lr"), adam.lr());
    adam.set_lr(cli.number("lr"));
  }
  return st;
}

// A UsageError unless the checkpoint at path holds a model of `kind` (as `trainer` writes them).
inline void require_kind(const std::string& path, const std::string& kind, const std::string& trainer) {
  const CheckpointMeta meta = read_checkpoint_meta(path);
  const AttributeGroup* g = meta.find("config");
  const std::string have = g && g->has("kind") ? g->get_string("kind") : "";
  if (have != kind)
    throw UsageError(path + ": " + (have.empty() ? std::string("holds no model") : "a " + have + " checkpoint") + "; this program needs a " +
                     kind + " checkpoint, as " + trainer + " writes them");
}

// Checkpoints every epoch, the best by `metric` (higher is better).
inline CheckpointPolicy best_by(const std::string& metric) {
  CheckpointPolicy p;
  p.best_metric = metric;
  return p;
}




// An error's message on stderr. Under MPI (--distributed) it names the rank, and then every rank is
// ended (MPI_Abort): the others may be waiting for this one in a collective.
inline int fail(const std::exception& e, int code) {
  const int rank = distributed::world_rank();
  if (rank >= 0)
    std::fprintf(stderr, "error: rank %d: %s\n", rank, e.what());
  else
    std::fprintf(stderr, "error: %s\n", e.what());
  std::fflush(stderr);
  distributed::abort_world(code);
  return code;
}

// Parses flags, sets up logging and threads (--threads, if the program has it), runs body; --help
// prints the usage on stdout and exits 0; every error becomes a clear message and exit code 2
// (bad usage) or 1 (failure), never a crash.
inline int run_main(Cli& cli, int argc, char** argv, const std::function<int()>& body) {
  try {
    init_logging();
    if (!cli.parse(argc, argv)) return 0;
    if (cli.declared("threads")) blas::set_threads(static_cast<int>(cli.integer("threads")));
    blas::flush_denormals();
    if (const std::string w = blas::kernel_warning(); !w.empty()) spdlog::warn("{}", w);
    return body();
  } catch (const UsageError& e) {
    return fail(e, 2);
  } catch (const std::exception& e) {
    return fail(e, 1);
  }
}

}  // namespace reel::examples
