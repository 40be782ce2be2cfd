#pragma once
/// \file
/// Checkpoints in HDF5: parameters, optimizer state (with its hyperparameters), training progress,
/// RNG streams and named attribute groups, in one file whose layout is docs/checkpoint-format.md.
/// The framework does not know what a group means: models/model_io.h stores a model's configuration
/// as the "config" group, data/vocab_io.h a vocabulary as the "vocab" group, and
/// models/model_factory.h rebuilds a model from the file alone.
///
/// \code
///   save_checkpoint(path, store, &adam, state, {{"config", cfg_group}});  // atomic: tmp + fsync + rename
///   load_checkpoint(path, store, &adam, &state);                         // strict: any mismatch throws
///   load_checkpoint(path, store);                                        // parameters only (= nullptr, nullptr)
///   CheckpointMeta m = read_checkpoint_meta(path);                        // root attributes and groups
/// \endcode
///
/// Guarantees:
///  * a save never leaves a half-written file at `path`: it writes a temporary file in the same
///    directory, seals it (a 512-byte header with the CRC-32 of the HDF5 data), fsyncs it, renames
///    it over `path` and fsyncs the directory;
///  * every problem reading a file (missing, not HDF5, truncated, corrupt, unsupported format
///    version, wrong dtype, missing group) throws CheckpointError naming the file and the problem;
///    nothing aborts and the HDF5 library prints nothing;
///  * loading is all-or-nothing: the store, optimizer and state change only if the load succeeds;
///  * precision is never converted: a float32 checkpoint loads into float models only, a float64
///    one into double models (a mismatch is reported like a shape mismatch);
///  * resuming is bit for bit: parameters, optimizer buffers, its step count and lr, and the
///    state's RNG streams are restored exactly; the optimizer's hyperparameters are checked, never
///    changed (a difference is a mismatch, named).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "framework/optim/optimizer.h"
#include "framework/parameter.h"
#include "framework/shape.h"

namespace reel {

/// The largest learning rate a checkpoint may hold: a larger one is damage, not a setting.
inline constexpr double kMaxLearningRate = 1e3;

/// A checkpoint could not be written, read, or does not match what it is loaded into.
struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The root attribute "format" of every reel checkpoint.
inline constexpr const char* kCheckpointFormat = "reel-checkpoint";
/// Version 2: /config records the cell, layers and directions; /optimizer records the optimizer's
/// own hyperparameters, checked on load. Version 1 files (reel 0.1) still load (see the doc).
inline constexpr int64_t kCheckpointFormatVersion = 2;
/// The oldest format_version this reel still reads.
inline constexpr int64_t kOldestReadableFormatVersion = 1;

/// One scalar attribute of an AttributeGroup: an integer, a float or a string.
using AttributeValue = std::variant<int64_t, double, std::string>;

/// A named group of scalar attributes (int64, double, string) and string lists, stored without
/// interpretation: a model's configuration, a vocabulary. A group read from a file remembers where
/// it came from, and its getters throw CheckpointError naming the file, group and key.
class AttributeGroup {
 public:
  /// Sets attribute key to an integer, a float or a string, replacing what it held; returns *this,
  /// so that calls chain: g.set("kind", "tagger").set("hidden_dim", 128).
  ///@{
  AttributeGroup& set(const std::string& key, int64_t v);
  AttributeGroup& set(const std::string& key, int v) { return set(key, static_cast<int64_t>(v)); }
  AttributeGroup& set(const std::string& key, double v);
  AttributeGroup& set(const std::string& key, std::string v);
  AttributeGroup& set(const std::string& key, const char* v) { return set(key, std::string(v)); }
  ///@}
  /// Sets the string list `name` to a list of UTF-8 strings. Throws UsageError if a string holds a
  /// newline (the file joins them with newlines) or the list is [""] (it would read back as []).
  AttributeGroup& set_strings(const std::string& name, std::vector<std::string> list);

  /// Whether scalar attribute key is set
  bool has(const std::string& key) const { return attrs_.count(key) > 0; }
  /// Whether string list name is set
  bool has_strings(const std::string& name) const { return lists_.count(name) > 0; }
  /// An integer attribute; throws CheckpointError if absent or not an integer
  int64_t get_int(const std::string& key) const;
  /// A float (or integer) attribute; throws CheckpointError otherwise
  double get_double(const std::string& key) const;
  /// A string attribute; throws CheckpointError if absent or not a string
  const std::string& get_string(const std::string& key) const;
  /// A string list; throws CheckpointError if absent
  const std::vector<std::string>& get_strings(const std::string& name) const;
  /// Every scalar attribute, by key
  const std::map<std::string, AttributeValue>& attributes() const { return attrs_; }
  /// Every string list, by name
  const std::map<std::string, std::vector<std::string>>& string_lists() const { return lists_; }

  /// "model.h5:/config@kind" (no file: "/config@kind"); the reader sets the origin.
  std::string where(const std::string& key = "") const;
  /// The file it was read from (empty if not read from a file)
  const std::string& file() const { return file_; }
  /// Its group name in the file ("config"), as set_origin set it
  const std::string& name() const { return name_; }
  /// Where the group comes from, for where() and error messages
  void set_origin(std::string file, std::string name);
  /// Same attributes and string lists (the origin is not compared)
  bool operator==(const AttributeGroup& o) const { return attrs_ == o.attrs_ && lists_ == o.lists_; }

 private:
  const AttributeValue& value(const std::string& key) const;
  std::map<std::string, AttributeValue> attrs_;
  std::map<std::string, std::vector<std::string>> lists_;
  std::string file_, name_;
};
std::string to_string(const AttributeValue& v);  ///< 42, 0.001, 'lstm'

/// Top-level groups by name; "parameters", "optimizer" and "progress" are the framework's own.
using AttributeGroups = std::map<std::string, AttributeGroup>;

/// Where training is, so that it can continue exactly.
///  * epoch: epochs completed; batch_in_epoch: batches of the next epoch already trained (0 at an
///    epoch end). Resume at epoch `epoch + 1` (1-based), skipping its first batch_in_epoch batches.
///  * rng: every stream's Rng::state() at the point training continues from. For a mid-epoch save,
///    save the shuffle stream as it was *before* this epoch's shuffle, so that the resumed run
///    redraws the same batch order and skips the batches already done.
struct TrainingState {
  int64_t epoch = 0;           ///< epochs completed
  int64_t global_step = 0;     ///< optimizer steps taken
  int64_t batch_in_epoch = 0;  ///< batches of the next epoch already trained (0 at an epoch end)
  double best_dev = -1;        ///< the best value of the run's best metric so far (-1: none yet)
  std::map<std::string, std::array<uint64_t, 6>> rng;  ///< Rng::state() per stream name
  std::vector<float> carried_hidden;                   ///< truncated BPTT: the state carried over
  Shape carried_hidden_shape;                          ///< carried_hidden's shape (empty: none)
  std::map<std::string, double> metrics;               ///< last epoch's figures, or running sums
};

/// The optimizer argument of the functions below: Optimizer<T>* with T taken from the store (or
/// model) alone, so that a plain `nullptr` (no optimizer) or a derived optimizer's address (&adam)
/// converts to it without a cast.
template <class T>
struct OptimizerArg {
  using type = Optimizer<T>;  ///< Optimizer<T>, from a context where T is not deduced
};
/// The optimizer parameter of load_checkpoint and CheckpointManager::resume: Optimizer<T>*, null for none.
template <class T>
using OptimizerPtr = typename OptimizerArg<T>::type*;
/// The optimizer parameter of save_checkpoint and CheckpointManager::save: const Optimizer<T>*,
/// null for none.
template <class T>
using ConstOptimizerPtr = const typename OptimizerArg<T>::type*;

/// What load_checkpoint loaded, skipped and missed, by name (a strict load that succeeds skips and
/// misses nothing).
struct LoadReport {
  std::vector<std::string> loaded;   ///< parameter names, and "optimizer/<kind>/<param>" buffers
  std::vector<std::string> skipped;  ///< in the file but not loaded (unexpected, shape, dtype, kind, "optimizer@<hyperparameter>")
  std::vector<std::string> missing;  ///< wanted but not in the file
  std::vector<std::string> problems; ///< one readable line per skipped or missing entry
  bool optimizer_loaded = false;  ///< whether the optimizer's state was loaded into opt
  bool state_loaded = false;  ///< whether the training progress was loaded into state
};

/// Writes a checkpoint atomically. opt may be null (no /optimizer group); with one, its kind, lr,
/// steps, hyperparameters() and buffers are written. groups: extra top-level groups (a model's
/// "config", a "vocab"). Throws CheckpointError naming the file if it cannot be written (the old
/// file is then intact), UsageError if a parameter, group or attribute name cannot be stored.
template <class T>
void save_checkpoint(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt,
                     const TrainingState& state, const AttributeGroups& groups = {});

/// Loads parameters into store (matched by name), and, when given, the optimizer's state into opt
/// and the training progress into state (either may be nullptr: load_checkpoint(path, store)
/// loads the parameters alone). strict: any missing, unexpected, mis-shaped or
/// wrong-dtype tensor, an optimizer of another kind, or (format_version >= 2) a hyperparameter of
/// the file's optimizer that differs from opt's, throws CheckpointError listing every one by name,
/// and nothing is changed. Not strict: what matches is loaded, the rest is reported (and logged as
/// a warning); the buffers of an optimizer whose hyperparameters differ still load, and opt keeps
/// its own hyperparameters. The lr and step count are restored from the file. Malformed files
/// throw in both modes.
template <class T>
LoadReport load_checkpoint(const std::string& path, ParameterStore<T>& store, OptimizerPtr<T> opt = nullptr,
                           TrainingState* state = nullptr, bool strict = true);

/// The root attributes and every attribute group of a file (all top-level groups but the
/// framework's three), read and checked in one pass.
struct CheckpointMeta {
  std::string path;  ///< the file read
  int64_t format_version = 0;  ///< the file's format version (1 or 2)
  /// The parameters' dtype ("float32" or "float64"), and the reel version that wrote the file
  /// ("unknown" if it did not say).
  ///@{
  std::string dtype, reel_version;
  ///@}
  AttributeGroups groups;  ///< every attribute group ("config", "vocab", ...) by name
  const AttributeGroup* find(const std::string& name) const;  ///< null if absent
  const AttributeGroup& group(const std::string& name) const; ///< throws CheckpointError if absent
};
/// Reads a file's root attributes and attribute groups; throws CheckpointError if the file is
/// missing, damaged or not a reel checkpoint.
CheckpointMeta read_checkpoint_meta(const std::string& path);
/// Reads a file's /progress group alone (no parameters); throws CheckpointError as read_checkpoint_meta.
TrainingState read_training_state(const std::string& path);
std::string read_checkpoint_dtype(const std::string& path);  ///< "float32" or "float64"

/// One dataset of a checkpoint, as inspect_checkpoint describes it.
struct TensorSummary {
  std::string name;  ///< "parameters/rnn.W_hh", "optimizer/exp_avg/rnn.W_hh", "progress/carried_hidden"
  std::vector<int64_t> dims;  ///< its shape
  std::string dtype;  ///< "float32", "float64", "int64", ... as stored
  /// Statistics of its values (std: the population standard deviation).
  ///@{
  double mean = 0, std = 0, min = 0, max = 0;
  ///@}
};

/// Everything a checkpoint holds, described without loading it into a model (inspect_checkpoint;
/// the inspect example prints it).
struct CheckpointSummary {
  std::string path;  ///< the file read
  int64_t file_bytes = 0;  ///< the file's size
  bool sealed = false;  ///< written by reel (seal header with CRC-32 verified)
  int64_t format_version = 0;  ///< the file's format version (1 or 2)
  /// The reel version that wrote the file ("unknown" if it did not say), and the parameters'
  /// dtype ("float32" or "float64").
  ///@{
  std::string reel_version, dtype;
  ///@}
  AttributeGroups groups;      ///< "config", "vocab", ...: models/model_io.h turns "config" into a model description
  std::string optimizer_kind;  ///< empty: saved without an optimizer
  double optimizer_lr = 0;  ///< the optimizer's learning rate when saved
  int64_t optimizer_steps = 0;  ///< optimizer steps taken when saved
  /// The optimizer's hyperparameters (Optimizer::hyperparameters), by name
  std::map<std::string, double> optimizer_hyperparameters;
  TrainingState progress;  ///< the /progress group
  int64_t parameter_count = 0; ///< elements in /parameters
  std::vector<TensorSummary> tensors;  ///< every dataset: parameters, optimizer buffers, progress arrays
};
/// Describes a checkpoint file: its seal, root attributes, groups, optimizer, progress and every
/// tensor with its statistics. Throws CheckpointError if the file is missing, damaged or not a reel
/// checkpoint.
CheckpointSummary inspect_checkpoint(const std::string& path);

}  // namespace reel
