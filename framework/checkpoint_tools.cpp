// Built on save/load: inspection, and keep-last-K / best rotation. (A model from the file alone:
// models/model_factory.h.)
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "framework/checkpoint_detail.h"
#include "framework/checkpoint_file.h"

namespace reel {

using namespace checkpoint_detail;
namespace fs = std::filesystem;

static TensorSummary summarize(const h5::Location& g, const std::string& ds, const std::string& name) {
  const h5::DatasetInfo inf = g.info(ds);
  TensorSummary t;
  t.name = name;
  t.dims = inf.dims;
  t.dtype = h5::dtype_name(inf.dtype);
  if (!h5::is_float(inf.dtype)) return t;
  std::vector<double> v(static_cast<size_t>(inf.elements()));
  g.read(ds, v.data(), inf.elements());
  if (v.empty()) return t;
  double sum = 0, sq = 0;
  t.min = t.max = v[0];
  for (double x : v) {
    sum += x;
    t.min = std::min(t.min, x);
    t.max = std::max(t.max, x);
  }
  t.mean = sum / static_cast<double>(v.size());
  for (double x : v) sq += (x - t.mean) * (x - t.mean);
  t.std = std::sqrt(sq / static_cast<double>(v.size()));
  return t;
}

CheckpointSummary inspect_checkpoint(const std::string& path) {
  return guarded(path, [&] {
    CheckpointSummary s;
    s.path = path;
    checkpoint_file::Verified v;
    h5::File f = checkpoint_file::open_verified(path, &v);
    s.file_bytes = v.file_bytes;
    s.sealed = v.sealed;
    const Root root = check_root(f);
    s.dtype = root.dtype;
    s.format_version = root.format_version;
    s.reel_version = f.has_attr("reel_version") ? f.attr_string("reel_version") : "unknown";
    s.groups = read_groups(f);
    s.progress = read_state(f);
    const h5::Location params = require_group(f, "parameters");
    for (const auto& n : params.children()) {
      s.tensors.push_back(summarize(params, n, "parameters/" + n));
      s.parameter_count += s.tensors.back().dims.empty() ? 1 : h5::DatasetInfo{s.tensors.back().dims, {}}.elements();
    }
    if (f.is_group("optimizer")) {
      const h5::Location o = f.group("optimizer");
      s.optimizer_kind = o.attr_string("kind");
      s.optimizer_lr = o.attr_double("lr");
      s.optimizer_steps = o.attr_int("steps");
      s.optimizer_hyperparameters = read_hyperparameters(o);
      for (const auto& k : o.children())
        if (o.is_group(k))
          for (const auto& n : o.group(k).children()) s.tensors.push_back(summarize(o.group(k), n, "optimizer/" + k + "/" + n));
    }
    if (f.is_group("progress") && f.group("progress").is_dataset("carried_hidden"))
      s.tensors.push_back(summarize(f.group("progress"), "carried_hidden", "progress/carried_hidden"));
    return s;
  });
}

// ---- rotation

CheckpointManager::CheckpointManager(std::string path, int keep_last) : path_(std::move(path)), keep_last_(keep_last) {
  if (path_.empty()) throw UsageError("CheckpointManager: empty checkpoint path");
  if (keep_last < 0) throw UsageError("CheckpointManager: keep_last must be >= 0, got " + std::to_string(keep_last));
  stem_ = path_;
  if (stem_.size() > 3 && stem_.compare(stem_.size() - 3, 3, ".h5") == 0) stem_.resize(stem_.size() - 3);
  checkpoint_file::remove_stale_temps(path_);
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
void CheckpointManager::save(const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
                             const AttributeGroups& groups, bool is_best) {
  save_checkpoint(path_, store, opt, state, groups);
  if (keep_last_ > 0) {
    checkpoint_file::copy_atomically(path_, step_path(state.global_step));
    std::vector<std::string> files = kept();
    for (size_t i = 0; i + static_cast<size_t>(keep_last_) < files.size(); ++i) {
      std::error_code ec;
      fs::remove(files[i], ec);
      if (ec) spdlog::warn("checkpoint: cannot remove old {}: {}", files[i], ec.message());
    }
  }
  if (is_best) checkpoint_file::copy_atomically(path_, best_path());
}

template void CheckpointManager::save<float>(const ParameterStore<float>&, const Optimizer<float>*, const TrainingState&,
                                             const AttributeGroups&, bool);
template void CheckpointManager::save<double>(const ParameterStore<double>&, const Optimizer<double>*, const TrainingState&,
                                              const AttributeGroups&, bool);

}  // namespace reel
