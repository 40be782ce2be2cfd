#pragma once
/// \file
/// The checkpoints of a training run, kept the way a run needs them:
///
/// \code
///   CheckpointPolicy policy;                  // every epoch; keep the last 3; best by dev accuracy
///   policy.keep_last = 3;
///   policy.best_metric = "dev_accuracy";
///   CheckpointManager ckpt("runs/tagger.h5", policy);
///   TrainingState st;
///   if (ckpt.resume(store, &adam, &st)) loader.restore(st);   // newest good file, or none
///   ...
///   st.metrics = {{"dev_accuracy", acc}};
///   ckpt.save(store, &adam, st, groups);        // latest, rotation, best; st.best_dev follows
///   ckpt.restore_best(store);                   // the best parameters seen, for the test set
/// \endcode
///
/// Files: `path` is the latest; with keep_last > 0 also `<stem>.step<N>.h5` for the last keep_last
/// saves (N = global step; older ones are deleted); the best by best_metric as `<stem>.best.h5`,
/// where `<stem>` is path without ".h5". Every file is replaced atomically (temp file, fsync,
/// rename); the rotation and best files are copies, never hard links, so damage to one file (or
/// an edit in place) never reaches another. Construction removes temporary files left by killed saves. An empty path keeps
/// nothing on disk but still tracks the best parameters in memory.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/checkpoint.h"

namespace reel {

/// When a CheckpointManager saves, what it keeps, and which save is the best.
struct CheckpointPolicy {
  int64_t every_epochs = 1;     ///< due() at the end of every N-th epoch (0: not at epoch ends)
  int64_t every_steps = 0;      ///< due() also every N optimizer steps (0: off)
  int keep_last = 0;            ///< rotation files `<stem>.step<N>.h5` kept (0: none)
  std::string best_metric;      ///< the metric of TrainingState::metrics that picks the best ("": none)
  bool higher_is_better = true;  ///< false for a metric to minimise (a loss)
};

/// The checkpoints of one run under a CheckpointPolicy (see the file description).
class CheckpointManager {
 public:
  /// Checkpoints at path with the default policy (every epoch, no best) keeping keep_last rotation
  /// files. Removes temporary files that killed saves left beside path.
  explicit CheckpointManager(std::string path, int keep_last = 0);
  /// Checkpoints at path under policy. Throws UsageError if keep_last, every_epochs or every_steps
  /// is negative. Removes temporary files that killed saves left beside path.
  CheckpointManager(std::string path, CheckpointPolicy policy);

  /// Whether the policy asks for a checkpoint after optimizer step `step` (epoch_end: the step
  /// that ended epoch `epoch`).
  bool due(int64_t step, bool epoch_end, int64_t epoch) const;

  /// Saves the latest checkpoint (and rotation, best). The best is decided by policy.best_metric in
  /// state.metrics against state.best_dev (the best so far), which is updated; returns whether this
  /// save is the best. Without a best metric, no best file. The best parameters are also kept in
  /// memory for restore_best().
  template <class T>
  bool save(const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, TrainingState& state, const AttributeGroups& groups);
  /// The lower-level form: saves, and writes the best file when is_best.
  template <class T>
  void save(const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
            const AttributeGroups& groups, bool is_best);

  /// Loads the newest good checkpoint into store, opt and state: `from` if given (any error
  /// throws), else the newest of path and the rotation files by global step, skipping (with a
  /// warning) files that do not load. Logs what it restored. Returns false if there is none.
  template <class T>
  bool resume(ParameterStore<T>& store, OptimizerPtr<T> opt, TrainingState* state, const std::string& from = "");

  /// The best parameters seen by this run (in memory), or after a resume the best file's; if
  /// neither exists, store is left as it is and false returned.
  template <class T>
  bool restore_best(ParameterStore<T>& store) const;

  const std::string& path() const { return path_; }  ///< the latest checkpoint's file ("": nothing on disk)
  std::string best_path() const { return stem_ + ".best.h5"; }  ///< `<stem>.best.h5`
  /// `<stem>.step<step>.h5`
  std::string step_path(int64_t step) const { return stem_ + ".step" + std::to_string(step) + ".h5"; }
  std::vector<std::string> kept() const;  ///< the step files on disk, oldest first
  const CheckpointPolicy& policy() const { return policy_; }  ///< the policy it was made with

 private:
  template <class T>
  void remember_best(const ParameterStore<T>& store);
  std::string path_, stem_;
  CheckpointPolicy policy_;
  std::vector<std::vector<double>> best_;  ///< the best parameters, store order (float values are exact)
  std::string best_file_;                  ///< after a resume: the best file to restore from
};

}  // namespace reel
