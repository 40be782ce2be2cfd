// Saving and loading checkpoints (layout: docs/checkpoint-format.md). The file layer (atomic
// writes, seal) is checkpoint_file.cpp; attribute groups checkpoint_groups.cpp; inspection and
// rotation checkpoint_tools.cpp.
#include "framework/checkpoint.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "framework/checkpoint_detail.h"
#include "framework/checkpoint_file.h"

namespace reel {

using namespace checkpoint_detail;

namespace {

void write_progress(h5::Location& g, const TrainingState& s) {
  g.set_attr("epoch", s.epoch);
  g.set_attr("global_step", s.global_step);
  g.set_attr("batch_in_epoch", s.batch_in_epoch);
  g.set_attr("best_dev", s.best_dev);
  h5::Location rng = g.create_group("rng");
  for (const auto& [name, st] : s.rng) {
    check_name("RNG stream", name);
    rng.write(name, {6}, st.data());
  }
  if (!s.carried_hidden.empty() || s.carried_hidden_shape.rank > 0) {
    if (static_cast<int64_t>(s.carried_hidden.size()) != s.carried_hidden_shape.size())
      throw UsageError("save_checkpoint: carried_hidden holds " + std::to_string(s.carried_hidden.size()) +
                       " values, its shape " + s.carried_hidden_shape.str() + " needs " + std::to_string(s.carried_hidden_shape.size()));
    g.write("carried_hidden", dims_of(s.carried_hidden_shape), s.carried_hidden.data());
  }
  h5::Location metrics = g.create_group("metrics");
  for (const auto& [name, v] : s.metrics) metrics.set_attr(name, v);
}

template <class T>
void write_optimizer(h5::Location& g, const Optimizer<T>& opt) {
  g.set_attr("kind", opt.kind());
  g.set_attr("lr", opt.lr());
  g.set_attr("steps", opt.steps());
  for (const auto& [k, v] : opt.hyperparameters()) {
    check_name("optimizer hyperparameter", k);
    if (k == "kind" || k == "lr" || k == "steps")
      throw UsageError("save_checkpoint: " + opt.kind() + "'s hyperparameter '" + k + "' collides with the /optimizer attribute of that name");
    g.set_attr(k, v);
  }
  // buffers() is not const but only hands out pointers; nothing is modified here.
  for (const auto& b : const_cast<Optimizer<T>&>(opt).buffers()) {
    check_name("optimizer buffer", b.kind);
    const Parameter<T>* p = nullptr;
    for (const auto* q : opt.params()) if (q->name == b.param) p = q;
    std::vector<int64_t> dims = p && p->size() == static_cast<int64_t>(b.values->size())
                                    ? dims_of(p->shape) : std::vector<int64_t>{static_cast<int64_t>(b.values->size())};
    g.require_group(b.kind).write(b.param, dims, b.values->data());
  }
}

}  // namespace

template <class T>
void save_checkpoint(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt,
                     const TrainingState& state, const AttributeGroups& groups) {
  for (const auto* p : store.all()) {
    check_name("parameter", p->name);
    for (size_t i = 0; i < p->value.size(); ++i)
      if (!std::isfinite(p->value[i]))
        throw NumericError(path + ": not saved: parameter '" + p->name + "' holds " + (std::isnan(p->value[i]) ? "NaN" : "Inf") +
                           " at element " + std::to_string(i) + " (the files saved before are kept; lower the learning rate or clip)");
  }
  for (const auto& [name, g] : groups) {
    check_name("group", name);
    if (is_framework_group(name)) throw UsageError("save_checkpoint: the group name '" + name + "' is the framework's own");
  }
  checkpoint_file::write_atomically(path, [&](h5::File& f) {
    f.set_attr("format", kCheckpointFormat);
    f.set_attr("format_version", kCheckpointFormatVersion);
    f.set_attr("reel_version", REEL_VERSION);
    f.set_attr("dtype", dtype_of<T>());
    for (const auto& [name, g] : groups) {
      h5::Location loc = f.create_group(name);
      write_group(loc, g);
    }
    h5::Location params = f.create_group("parameters");
    for (const auto* p : store.all()) params.write(p->name, dims_of(p->shape), p->value.data());
    if (opt) {
      h5::Location g = f.create_group("optimizer");
      write_optimizer(g, *opt);
    }
    h5::Location progress = f.create_group("progress");
    write_progress(progress, state);
  });
  spdlog::debug("checkpoint: saved {} ({} parameters{})", path, store.count(), opt ? ", optimizer state" : "");
}

namespace {

// One load: everything is staged and checked first, and applied only if the whole load succeeds.
template <class T>
class Loader {
 public:
  Loader(const std::string& path, const h5::File& f, int64_t version) : path_(path), f_(f), version_(version) {}

  void parameters(ParameterStore<T>& store) {
    const h5::Location params = require_group(f_, "parameters");
    std::vector<std::string> in_file = params.children();
    for (auto* p : store.all()) {
      auto it = std::find(in_file.begin(), in_file.end(), p->name);
      if (it == in_file.end()) {
        problem(rep.missing, p->name, "missing from the file (the model's shape is " + p->shape.str() + ")");
        continue;
      }
      in_file.erase(it);
      if (!params.is_dataset(p->name)) {
        problem(rep.skipped, p->name, "is a group in the file, not a dataset");
      } else if (matches(params, p->name, p->name, p->shape)) {
        stage(params, p->name, &p->value, staged_params_, "parameter '" + p->name + "'");
        rep.loaded.push_back(p->name);
      }
    }
    for (const auto& extra : in_file)
      problem(rep.skipped, extra, "in the file" + (params.is_dataset(extra) ? " (shape " + dims_str(params.info(extra).dims) + ")" : std::string(" (a group)")) +
                                      " but not in the model");
  }

  void optimizer(Optimizer<T>& opt) {
    if (!f_.is_group("optimizer")) {
      problem(rep.missing, "optimizer", "the file has no optimizer state (saved without an optimizer); load with opt = nullptr to take the parameters only");
      return;
    }
    const h5::Location g = f_.group("optimizer");
    const std::string kind = g.attr_string("kind");
    if (kind != opt.kind()) {
      problem(rep.skipped, "optimizer", "a " + kind + " optimizer's state in the file, this optimizer is " + opt.kind());
      return;
    }
    opt_steps_ = g.attr_int("steps");
    opt_lr_ = g.attr_double("lr");
    if (opt_steps_ < 0 || !(opt_lr_ >= 0) || !(opt_lr_ <= kMaxLearningRate))
      throw CheckpointError(path_ + ": /optimizer has steps " + std::to_string(opt_steps_) + ", lr " + std::to_string(opt_lr_) +
                            " (expected steps >= 0 and a learning rate in [0, " + std::to_string(kMaxLearningRate) + "])");
    const size_t before = rep.problems.size();
    buffers(g, opt);
    rep.optimizer_loaded = rep.problems.size() == before;
    hyperparameters(g, opt);  // a difference is a problem, but does not invalidate the buffers
  }

  void state() {
    if (f_.is_group("progress")) {
      st_ = read_state(f_);
      rep.state_loaded = true;
    } else {
      problem(rep.missing, "progress", "the file has no /progress group");
    }
  }

  // Throws (strict) or warns about every problem, then applies what was staged.
  void commit(bool strict, Optimizer<T>* opt, TrainingState* state) {
    if (!rep.problems.empty()) {
      std::string msg = path_ + ": the checkpoint does not match the model (" + std::to_string(rep.problems.size()) + " problem" +
                        (rep.problems.size() > 1 ? "s" : "") + "):";
      for (const auto& p : rep.problems) msg += "\n  " + p;
      if (strict) throw CheckpointError(msg);
      spdlog::warn("{}\n  (not strict: loaded the {} matching tensors, skipped the rest)", msg, rep.loaded.size());
    }
    for (auto& [dst, v] : staged_params_) *dst = std::move(v);
    if (rep.optimizer_loaded) {
      for (auto& [dst, v] : staged_opt_) *dst = std::move(v);
      opt->set_steps(opt_steps_);
      opt->set_lr(opt_lr_);
      rep.loaded.insert(rep.loaded.end(), loaded_opt_.begin(), loaded_opt_.end());
    } else {
      for (auto& n : loaded_opt_) problem(rep.skipped, n, "not loaded: the rest of the optimizer's state does not match");
    }
    if (state && rep.state_loaded) *state = std::move(st_);
  }

  LoadReport rep;

 private:
  using Staged = std::vector<std::pair<std::vector<T>*, std::vector<T>>>;

  void problem(std::vector<std::string>& list, const std::string& name, const std::string& text) {
    list.push_back(name);
    rep.problems.push_back(name + ": " + text);
  }

  // A dataset that should hold `shape` values of type T: true if it does, else records why.
  bool matches(const h5::Location& g, const std::string& ds, const std::string& name, const Shape& shape) {
    const h5::DatasetInfo inf = g.info(ds);
    if (inf.dims != dims_of(shape)) {
      problem(rep.skipped, name, "shape " + dims_str(inf.dims) + " in the file, " + shape.str() + " in the model");
      return false;
    }
    if (inf.dtype != h5_dtype_of<T>()) {
      problem(rep.skipped, name, std::string(h5::dtype_name(inf.dtype)) + " in the file, the model is " + dtype_of<T>() +
                                     " (reel does not convert precision)");
      return false;
    }
    return true;
  }

  // Reads a tensor for the commit; every value must be finite (and >= 0 for second moments):
  // a NaN in a file is a diverged or damaged run, never something to train on.
  void stage(const h5::Location& g, const std::string& ds, std::vector<T>* dst, Staged& into, const std::string& name,
             bool nonnegative = false) {
    std::vector<T> v(dst->size());
    g.read(ds, v.data(), static_cast<int64_t>(v.size()));
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]) || (nonnegative && v[i] < T(0)))
        throw CheckpointError(path_ + ": " + name + " holds " +
                              (std::isnan(v[i]) ? "NaN" : std::isinf(v[i]) ? "Inf" : "a negative value") + " at element " +
                              std::to_string(i) + " (a diverged or damaged checkpoint: resume from an earlier one)");
    into.emplace_back(dst, std::move(v));
  }

  // The optimizer's state is all or nothing: half of Adam's moments would not resume anything.
  void buffers(const h5::Location& g, Optimizer<T>& opt) {
    std::map<std::string, std::vector<std::string>> unused;  // buffer kind -> datasets not claimed
    for (const auto& k : g.children()) unused[k] = g.is_group(k) ? g.group(k).children() : std::vector<std::string>{};
    for (const auto& b : opt.buffers()) {
      const std::string name = "optimizer/" + b.kind + "/" + b.param;
      auto& left = unused[b.kind];
      auto it = std::find(left.begin(), left.end(), b.param);
      if (it == left.end()) {
        problem(rep.missing, name, "missing from the file");
        continue;
      }
      left.erase(it);
      const h5::Location bg = g.group(b.kind);
      Shape shape;
      for (const auto* q : opt.params()) if (q->name == b.param) shape = q->shape;
      if (shape.size() != static_cast<int64_t>(b.values->size())) shape = shape_of({static_cast<int64_t>(b.values->size())});
      if (matches(bg, b.param, name, shape)) {
        stage(bg, b.param, b.values, staged_opt_, name, /*nonnegative=*/b.kind == "exp_avg_sq");
        loaded_opt_.push_back(name);
      }
    }
    for (const auto& [k, names] : unused)
      for (const auto& n : names) problem(rep.skipped, "optimizer/" + k + "/" + n, "in the file but not in this optimizer");
  }

  // Version 1 recorded only what the caller passed (often nothing, or defaults): not checked.
  void hyperparameters(const h5::Location& g, const Optimizer<T>& opt) {
    if (version_ < 2) {
      spdlog::debug("{}: a format_version {} file: the optimizer's hyperparameters are not checked", path_, version_);
      return;
    }
    const std::map<std::string, double> file = read_hyperparameters(g), mine = opt.hyperparameters();
    const std::string hint = " (resume with the hyperparameters the file was trained with, or load with strict = false to keep this optimizer's)";
    for (const auto& [k, v] : file) {
      auto it = mine.find(k);
      if (it == mine.end()) problem(rep.skipped, "optimizer@" + k, to_string(v) + " in the file, not a hyperparameter of this " + opt.kind());
      else if (!(it->second == v)) problem(rep.skipped, "optimizer@" + k, to_string(v) + " in the file, " + to_string(it->second) + " in this optimizer" + hint);
    }
    for (const auto& [k, v] : mine)
      if (!file.count(k)) problem(rep.missing, "optimizer@" + k, "missing from the file (this optimizer's is " + to_string(v) + ")");
  }

  const std::string& path_;
  const h5::File& f_;
  int64_t version_;
  Staged staged_params_, staged_opt_;
  std::vector<std::string> loaded_opt_;
  int64_t opt_steps_ = 0;
  double opt_lr_ = 0;
  TrainingState st_;
};

}  // namespace

template <class T>
LoadReport load_checkpoint(const std::string& path, ParameterStore<T>& store, OptimizerPtr<T> opt, TrainingState* state,
                           bool strict) {
  return guarded(path, [&] {
    h5::File f = checkpoint_file::open_verified(path);
    const Root root = check_root(f);
    Loader<T> load(path, f, root.format_version);
    load.parameters(store);
    if (opt) load.optimizer(*opt);
    if (state) load.state();
    load.commit(strict, opt, state);
    return std::move(load.rep);
  });
}

#define REEL_CHECKPOINT_INSTANTIATE(T)                                                                              \
  template void save_checkpoint<T>(const std::string&, const ParameterStore<T>&, const Optimizer<T>*,             \
                                   const TrainingState&, const AttributeGroups&);                                  \
  template LoadReport load_checkpoint<T>(const std::string&, ParameterStore<T>&, Optimizer<T>*, TrainingState*, bool);
REEL_CHECKPOINT_INSTANTIATE(float)
REEL_CHECKPOINT_INSTANTIATE(double)

}  // namespace reel
