#include "framework/checkpoint_manager.h"

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "framework/checkpoint_file.h"

namespace reel {

namespace fs = std::filesystem;

CheckpointManager::CheckpointManager(std::string path, int keep_last) : CheckpointManager(std::move(path), [&] {
  CheckpointPolicy p;
  p.keep_last = keep_last;
  return p;
}()) {}

CheckpointManager::CheckpointManager(std::string path, CheckpointPolicy policy) : path_(std::move(path)), policy_(std::move(policy)) {
  if (policy_.keep_last < 0) throw UsageError("CheckpointManager: keep_last must be >= 0, got " + std::to_string(policy_.keep_last));
  if (policy_.every_epochs < 0 || policy_.every_steps < 0)
    throw UsageError("CheckpointManager: every_epochs and every_steps must be >= 0");
  stem_ = path_;
  if (stem_.size() > 3 && stem_.compare(stem_.size() - 3, 3, ".h5") == 0) stem_.resize(stem_.size() - 3);
  if (path_.empty()) return;
  // The directory is made now, not at the first save: a run must not train an epoch and then
  // fail to write it.
  const std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec) && !std::filesystem::create_directories(dir, ec))
    throw CheckpointError(path_ + ": cannot create its directory " + dir.string() + ": " + ec.message());
  checkpoint_file::remove_stale_temps(path_);
}

bool CheckpointManager::due(int64_t step, bool epoch_end, int64_t epoch) const {
  if (epoch_end && policy_.every_epochs > 0 && epoch % policy_.every_epochs == 0) return true;
  return policy_.every_steps > 0 && step % policy_.every_steps == 0;
}

// Step number of a rotation file "<stem>.step<N>.h5", or -1.
static int64_t step_of(const std::string& file, const std::string& stem_name) {
  const std::string pre = stem_name + ".step", post = ".h5";
  if (file.size() <= pre.size() + post.size() || file.rfind(pre, 0) != 0 || file.compare(file.size() - post.size(), post.size(), post) != 0)
    return -1;
  const std::string digits = file.substr(pre.size(), file.size() - pre.size() - post.size());
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) return -1;
  return std::stoll(digits);
}

std::vector<std::string> CheckpointManager::kept() const {
  if (path_.empty()) return {};
  const fs::path stem(stem_);
  const fs::path dir = stem.has_parent_path() ? stem.parent_path() : fs::path(".");
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const int64_t n = step_of(e.path().filename().string(), stem.filename().string());
    if (n >= 0) found.emplace_back(n, (stem.has_parent_path() ? e.path() : e.path().filename()).string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

template <class T>
void CheckpointManager::remember_best(const ParameterStore<T>& store) {
  best_.clear();
  for (const Parameter<T>* p : store.all()) best_.emplace_back(p->value.begin(), p->value.end());
  best_file_.clear();
}

template <class T>
void CheckpointManager::save(const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
                             const AttributeGroups& groups, bool is_best) {
  if (is_best) remember_best(store);
  if (path_.empty()) return;
  save_checkpoint(path_, store, opt, state, groups);
  if (policy_.keep_last > 0) {
    checkpoint_file::copy_atomically(path_, step_path(state.global_step));
    std::vector<std::string> files = kept();
    for (size_t i = 0; i + static_cast<size_t>(policy_.keep_last) < files.size(); ++i) {
      std::error_code ec;
      fs::remove(files[i], ec);
      if (ec) spdlog::warn("checkpoint: cannot remove old {}: {}", files[i], ec.message());
    }
  }
  if (is_best) checkpoint_file::copy_atomically(path_, best_path());
}

template <class T>
bool CheckpointManager::save(const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, TrainingState& state,
                             const AttributeGroups& groups) {
  bool is_best = false;
  if (!policy_.best_metric.empty()) {
    auto it = state.metrics.find(policy_.best_metric);
    if (it == state.metrics.end())
      throw UsageError("CheckpointManager::save: the best metric '" + policy_.best_metric + "' is not in the state's metrics");
    const double v = it->second;
    const bool first = best_.empty() && best_file_.empty();
    is_best = first || (policy_.higher_is_better ? v > state.best_dev : v < state.best_dev);
    if (is_best) state.best_dev = v;
  }
  save(store, opt, static_cast<const TrainingState&>(state), groups, is_best);
  if (!path_.empty())
    spdlog::info("checkpoint: {} at step {}{}", path_, state.global_step,
                 is_best ? " (best " + policy_.best_metric + " so far: " + best_path() + ")" : "");
  return is_best;
}

template <class T>
bool CheckpointManager::resume(ParameterStore<T>& store, OptimizerPtr<T> opt, TrainingState* state, const std::string& from) {
  std::vector<std::string> candidates;
  if (!from.empty()) {
    candidates.push_back(from);
  } else if (!path_.empty()) {
    std::vector<std::pair<int64_t, std::string>> found;
    std::vector<std::string> files = kept();
    files.push_back(path_);
    for (const std::string& f : files) {
      std::error_code ec;
      if (!fs::exists(f, ec)) continue;
      try {
        found.emplace_back(read_training_state(f).global_step, f);
      } catch (const std::exception& e) {
        spdlog::warn("resume: skipping {}: {}", f, e.what());
      }
    }
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (auto& f : found) candidates.push_back(f.second);
  }
  for (const std::string& f : candidates) {
    try {
      TrainingState st;
      load_checkpoint(f, store, opt, &st);
      if (state) *state = st;
      std::string stem = f.size() > 3 && f.compare(f.size() - 3, 3, ".h5") == 0 ? f.substr(0, f.size() - 3) : f;
      const size_t dot = stem.rfind(".step");
      if (dot != std::string::npos && step_of(fs::path(stem + ".h5").filename().string(),
                                               fs::path(stem.substr(0, dot)).filename().string()) >= 0)
        stem.resize(dot);
      best_.clear();
      std::error_code ec;
      best_file_ = fs::exists(stem + ".best.h5", ec) ? stem + ".best.h5" : "";
      spdlog::info("resumed from {}: epoch {}, step {}, batch {} of the next epoch{}", f, st.epoch, st.global_step,
                   st.batch_in_epoch, best_file_.empty() ? "" : ", best model " + best_file_);
      return true;
    } catch (const std::exception& e) {
      if (!from.empty()) throw;
      spdlog::warn("resume: {} does not load ({}); trying an older checkpoint", f, e.what());
    }
  }
  return false;
}

template <class T>
bool CheckpointManager::restore_best(ParameterStore<T>& store) const {
  if (!best_.empty()) {
    auto params = store.all();
    if (params.size() != best_.size()) throw UsageError("CheckpointManager::restore_best: another store");
    for (size_t i = 0; i < params.size(); ++i) params[i]->value.assign(best_[i].begin(), best_[i].end());
    return true;
  }
  if (best_file_.empty()) return false;
  load_checkpoint(best_file_, store);
  return true;
}

#define REEL_INSTANTIATE(T)                                                                                          \
  template void CheckpointManager::save<T>(const ParameterStore<T>&, ConstOptimizerPtr<T>, const TrainingState&,      \
                                           const AttributeGroups&, bool);                                             \
  template bool CheckpointManager::save<T>(const ParameterStore<T>&, ConstOptimizerPtr<T>, TrainingState&,            \
                                           const AttributeGroups&);                                                   \
  template bool CheckpointManager::resume<T>(ParameterStore<T>&, OptimizerPtr<T>, TrainingState*, const std::string&); \
  template bool CheckpointManager::restore_best<T>(ParameterStore<T>&) const;
REEL_INSTANTIATE(float)
REEL_INSTANTIATE(double)
#undef REEL_INSTANTIATE

}  // namespace reel
