#pragma once
// Checkpoints in HDF5: parameters, optimizer state, training progress, the model configuration and
// (optionally) the vocabulary, in one file whose layout is docs/checkpoint-format.md.
//
//   save_checkpoint(path, store, &adam, state, config, &vocab);      // atomic: tmp + fsync + rename
//   load_checkpoint(path, model, &adam, &state);                      // strict: any mismatch throws
//   auto m = load_model<float>(path);                                 // the model from the file alone
//
// Guarantees:
//  * a save never leaves a half-written file at `path`: it writes a temporary file in the same
//    directory, seals it (a 512-byte header with the CRC-32 of the HDF5 data), fsyncs it, renames
//    it over `path` and fsyncs the directory;
//  * every problem reading a file (missing, not HDF5, truncated, corrupt, wrong format version,
//    wrong dtype, missing group, another model) throws CheckpointError naming the file and the
//    problem; nothing aborts and the HDF5 library prints nothing;
//  * loading is all-or-nothing: the store, optimizer and state change only if the load succeeds;
//  * precision is never converted: a float32 checkpoint loads into float models only, a float64
//    one into double models (a mismatch is reported like a shape mismatch);
//  * resuming is bit for bit: parameters, optimizer buffers, its step count and lr, and the
//    state's RNG streams are restored exactly.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/vocab.h"
#include "framework/optim/optimizer.h"
#include "framework/parameter.h"
#include "framework/shape.h"
#include "models/sequence_models.h"

namespace reel {

// A checkpoint could not be written, read, or does not match what it is loaded into.
struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kCheckpointFormat = "reel-checkpoint";
inline constexpr int64_t kCheckpointFormatVersion = 1;

// Where training is, so that it can continue exactly.
//  * epoch: epochs completed; batch_in_epoch: batches of the next epoch already trained (0 at an
//    epoch end). Resume at epoch `epoch + 1` (1-based), skipping its first batch_in_epoch batches.
//  * rng: every stream's Rng::state() at the point training continues from. For a mid-epoch save,
//    save the shuffle stream as it was *before* this epoch's shuffle, so that the resumed run
//    redraws the same batch order and skips the batches already done.
struct TrainingState {
  int64_t epoch = 0;
  int64_t global_step = 0;
  int64_t batch_in_epoch = 0;
  double best_dev = -1;
  std::map<std::string, std::array<uint64_t, 6>> rng;  // Rng::state() per stream name
  std::vector<float> carried_hidden;                   // truncated BPTT: the state carried over
  Shape carried_hidden_shape;                          //   and its shape (empty: none)
  std::map<std::string, double> metrics;               // last epoch's figures, or running sums
  // Optimizer hyperparameters (beta1, beta2, eps, weight_decay, momentum, ...) to record as
  // /optimizer attributes: Optimizer<T> does not expose its options, so the caller passes them.
  std::map<std::string, double> optimizer_hparams;
};

struct LoadReport {
  std::vector<std::string> loaded;   // parameter names, and "optimizer/<kind>/<param>" buffers
  std::vector<std::string> skipped;  // in the file but not loaded (unexpected, shape, dtype, kind)
  std::vector<std::string> missing;  // wanted but not in the file
  std::vector<std::string> problems; // one readable line per skipped or missing entry
  bool optimizer_loaded = false;
  bool state_loaded = false;
};

// Writes a checkpoint atomically. opt may be null (no /optimizer group); vocab may be null.
// Throws CheckpointError naming the file if it cannot be written (the old file is then intact),
// UsageError if config is invalid or a parameter name cannot be stored.
template <class T>
void save_checkpoint(const std::string& path, const ParameterStore<T>& store, const Optimizer<T>* opt,
                     const TrainingState& state, const SequenceModelConfig& config, const Vocab* vocab = nullptr);

// Loads parameters into store (matched by name), and, when given, the optimizer's state into opt
// and the training progress into state. strict: any missing, unexpected, mis-shaped or
// wrong-dtype tensor (or optimizer of another kind) throws CheckpointError listing every one by
// name with both shapes, and nothing is changed. Not strict: what matches is loaded, the rest is
// reported (and logged as a warning). Malformed files throw in both modes.
template <class T>
LoadReport load_checkpoint(const std::string& path, ParameterStore<T>& store, Optimizer<T>* opt,
                           TrainingState* state, bool strict = true);
// The same into a model, after check_model_config(path, model.config()).
template <class T>
LoadReport load_checkpoint(const std::string& path, SequenceModel<T>& model, Optimizer<T>* opt,
                           TrainingState* state, bool strict = true);

// Throws CheckpointError listing every field (kind, dims, activation) in which the file's model
// differs from expected.
void check_model_config(const std::string& path, const SequenceModelConfig& expected);
SequenceModelConfig read_model_config(const std::string& path);  // validated
std::optional<Vocab> read_vocab(const std::string& path);          // nullopt if saved without one
TrainingState read_training_state(const std::string& path);
std::string read_checkpoint_dtype(const std::string& path);        // "float32" or "float64"

// A model built from the file's configuration alone, with its parameters, vocabulary and state.
template <class T>
struct LoadedModel {
  SequenceModelConfig config;
  std::unique_ptr<ParameterStore<T>> store;
  std::unique_ptr<SequenceClassifier<T>> classifier;  // set when config.kind == "classifier"
  std::unique_ptr<SequenceTagger<T>> tagger;          // set when config.kind == "tagger"
  std::optional<Vocab> vocab;
  TrainingState state;
};
template <class T>
LoadedModel<T> load_model(const std::string& path);

struct TensorSummary {
  std::string name;  // "parameters/rnn.W_hh", "optimizer/exp_avg/rnn.W_hh", "progress/carried_hidden"
  std::vector<int64_t> dims;
  std::string dtype;
  double mean = 0, std = 0, min = 0, max = 0;  // std: population standard deviation
};

struct CheckpointSummary {
  std::string path;
  int64_t file_bytes = 0;
  bool sealed = false;  // written by reel (seal header with CRC-32 verified)
  int64_t format_version = 0;
  std::string reel_version, dtype;
  SequenceModelConfig config;
  std::string optimizer_kind;  // empty: saved without an optimizer
  double optimizer_lr = 0;
  int64_t optimizer_steps = 0;
  TrainingState progress;      // optimizer_hparams holds the /optimizer hyperparameters
  int64_t vocab_size = 0;      // 0: no vocabulary saved
  int64_t parameter_count = 0; // elements in /parameters
  std::vector<TensorSummary> tensors;
};
CheckpointSummary inspect_checkpoint(const std::string& path);

// Keeps `path` as the latest checkpoint; with keep_last > 0 also <stem>.step<N>.h5 for the last
// keep_last saves (N = state.global_step; older ones are deleted), and with is_best a copy as
// <stem>.best.h5, where <stem> is path without a trailing ".h5". Every file is replaced
// atomically; copies are hard links when the filesystem allows (files are never modified in
// place, only replaced). Construction removes temporary files left by killed saves.
class CheckpointManager {
 public:
  explicit CheckpointManager(std::string path, int keep_last = 0);
  template <class T>
  void save(const ParameterStore<T>& store, const Optimizer<T>* opt, const TrainingState& state,
            const SequenceModelConfig& config, const Vocab* vocab, bool is_best);
  const std::string& path() const { return path_; }
  std::string best_path() const { return stem_ + ".best.h5"; }
  std::string step_path(int64_t step) const { return stem_ + ".step" + std::to_string(step) + ".h5"; }
  std::vector<std::string> kept() const;  // the step files on disk, oldest first

 private:
  std::string path_, stem_;
  int keep_last_;
};

}  // namespace reel
