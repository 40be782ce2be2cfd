// Saving and loading checkpoints (layout: docs/checkpoint-format.md). The file layer (atomic
// writes, seal) is checkpoint_file.cpp; inspection, load_model and rotation are checkpoint_tools.cpp.
#include "framework/checkpoint.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "framework/checkpoint_detail.h"
#include "framework/checkpoint_file.h"

namespace reel {

using namespace checkpoint_detail;

namespace {

void check_name(const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    throw UsageError("save_checkpoint: " + what + " name '" + name + "' cannot be stored (it must be non-empty, without '/')");
}

void write_config(h5::Location& g, const SequenceModelConfig& c) {
  g.set_attr("kind", c.kind);
  g.set_attr("input_dim", c.input_dim);
  g.set_attr("vocab_size", c.vocab_size);
  g.set_attr("embed_dim", c.embed_dim);
  g.set_attr("hidden_dim", c.hidden_dim);
  g.set_attr("num_classes", c.num_classes);
  g.set_attr("activation", c.activation);
  g.set_attr("cell", c.cell);
  g.set_attr("num_layers", c.num_layers);
  g.set_attr("bidirectional", static_cast<int64_t>(c.bidirectional));
}

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

}  // namespace

template <class T>
void save_checkpoint(const std::string& path, const ParameterStore<T>& store, const Optimizer<T>* opt,
                     const TrainingState& state, const SequenceModelConfig& config, const Vocab* vocab) {
  config.validate();
  for (const auto* p : store.all()) check_name("parameter", p->name);
  checkpoint_file::write_atomically(path, [&](h5::File& f) {
    f.set_attr("format", kCheckpointFormat);
    f.set_attr("format_version", kCheckpointFormatVersion);
    f.set_attr("reel_version", REEL_VERSION);
    f.set_attr("dtype", dtype_of<T>());
    h5::Location cfg = f.create_group("config");
    write_config(cfg, config);
    h5::Location params = f.create_group("parameters");
    for (const auto* p : store.all()) params.write(p->name, dims_of(p->shape), p->value.data());
    if (opt) {
      h5::Location g = f.create_group("optimizer");
      g.set_attr("kind", opt->kind());
      g.set_attr("lr", opt->lr());
      g.set_attr("steps", opt->steps());
      for (const auto& [k, v] : state.optimizer_hparams)
        if (k != "kind" && k != "lr" && k != "steps") g.set_attr(k, v);
      // buffers() is not const but only hands out pointers; nothing is modified here.
      for (const auto& b : const_cast<Optimizer<T>*>(opt)->buffers()) {
        check_name("optimizer buffer", b.kind);
        const Parameter<T>* p = nullptr;
        for (const auto* q : opt->params()) if (q->name == b.param) p = q;
        std::vector<int64_t> dims = p && p->size() == static_cast<int64_t>(b.values->size())
                                        ? dims_of(p->shape) : std::vector<int64_t>{static_cast<int64_t>(b.values->size())};
        g.require_group(b.kind).write(b.param, dims, b.values->data());
      }
    }
    h5::Location progress = f.create_group("progress");
    write_progress(progress, state);
    if (vocab) {  // UTF-8 words joined by '\n' as bytes: no variable-length HDF5 data (see hdf5_file.h)
      std::string joined;
      for (const auto& w : vocab->words()) {
        if (w.find('\n') != std::string::npos) throw UsageError("save_checkpoint: a vocabulary word contains a newline");
        joined += (joined.empty() ? "" : "\n") + w;
      }
      h5::Location v = f.create_group("vocab");
      v.write("words", {static_cast<int64_t>(joined.size())}, reinterpret_cast<const uint8_t*>(joined.data()));
      v.set_attr("size", vocab->size());
      v.set_attr("lowercase", static_cast<int64_t>(vocab->lowercase()));
    }
  });
  spdlog::debug("checkpoint: saved {} ({} parameters{})", path, store.count(), opt ? ", optimizer state" : "");
}

template <class T>
LoadReport load_checkpoint(const std::string& path, ParameterStore<T>& store, Optimizer<T>* opt, TrainingState* state,
                           bool strict) {
  return guarded(path, [&] {
    h5::File f = checkpoint_file::open_verified(path);
    check_root(f);
    LoadReport rep;
    auto problem = [&](std::vector<std::string>& list, const std::string& name, const std::string& text) {
      list.push_back(name);
      rep.problems.push_back(name + ": " + text);
    };
    const h5::DType want = h5_dtype_of<T>();
    // A dataset that should hold `shape` values of type T: returns true if it does, else records why.
    auto matches = [&](const h5::Location& g, const std::string& ds, const std::string& name, const Shape& shape) {
      const h5::DatasetInfo inf = g.info(ds);
      if (inf.dims != dims_of(shape)) {
        problem(rep.skipped, name, "shape " + dims_str(inf.dims) + " in the file, " + shape.str() + " in the model");
        return false;
      }
      if (inf.dtype != want) {
        problem(rep.skipped, name, std::string(h5::dtype_name(inf.dtype)) + " in the file, the model is " + dtype_of<T>() +
                                       " (reel does not convert precision)");
        return false;
      }
      return true;
    };

    // Stage everything first: nothing changes unless the whole load succeeds.
    // The optimizer's state is all or nothing: half of Adam's moments would not resume anything.
    using Staged = std::vector<std::pair<std::vector<T>*, std::vector<T>>>;
    Staged staged_params, staged_opt;
    std::vector<std::string> loaded_opt;
    auto stage = [&](const h5::Location& g, const std::string& ds, std::vector<T>* dst, Staged& into) {
      std::vector<T> v(dst->size());
      g.read(ds, v.data(), static_cast<int64_t>(v.size()));
      into.emplace_back(dst, std::move(v));
    };

    const h5::Location params = require_group(f, "parameters");
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
        continue;
      }
      if (matches(params, p->name, p->name, p->shape)) {
        stage(params, p->name, &p->value, staged_params);
        rep.loaded.push_back(p->name);
      }
    }
    for (const auto& extra : in_file)
      problem(rep.skipped, extra, "in the file" + (params.is_dataset(extra) ? " (shape " + dims_str(params.info(extra).dims) + ")" : std::string(" (a group)")) +
                                      " but not in the model");

    int64_t opt_steps = 0;
    double opt_lr = 0;
    if (opt) {
      if (!f.is_group("optimizer")) {
        problem(rep.missing, "optimizer", "the file has no optimizer state (saved without an optimizer); load with opt = nullptr to take the parameters only");
      } else {
        const h5::Location g = f.group("optimizer");
        const std::string kind = g.attr_string("kind");
        if (kind != opt->kind()) {
          problem(rep.skipped, "optimizer", "a " + kind + " optimizer's state in the file, this optimizer is " + opt->kind());
        } else {
          opt_steps = g.attr_int("steps");
          opt_lr = g.attr_double("lr");
          if (opt_steps < 0 || !(opt_lr >= 0)) throw CheckpointError(path + ": /optimizer has steps " + std::to_string(opt_steps) + ", lr " + std::to_string(opt_lr));
          std::map<std::string, std::vector<std::string>> unused;  // buffer kind -> datasets not claimed
          for (const auto& k : g.children()) unused[k] = g.is_group(k) ? g.group(k).children() : std::vector<std::string>{};
          const size_t before = rep.problems.size();
          for (const auto& b : opt->buffers()) {
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
            for (const auto* q : opt->params()) if (q->name == b.param) shape = q->shape;
            if (shape.size() != static_cast<int64_t>(b.values->size())) shape = shape_of({static_cast<int64_t>(b.values->size())});
            if (matches(bg, b.param, name, shape)) {
              stage(bg, b.param, b.values, staged_opt);
              loaded_opt.push_back(name);
            }
          }
          for (const auto& [k, names] : unused)
            for (const auto& n : names) problem(rep.skipped, "optimizer/" + k + "/" + n, "in the file but not in this optimizer");
          rep.optimizer_loaded = rep.problems.size() == before;
        }
      }
    }

    TrainingState st;
    if (state) {
      if (f.is_group("progress")) {
        st = read_state(f);
        rep.state_loaded = true;
      } else {
        problem(rep.missing, "progress", "the file has no /progress group");
      }
    }

    if (!rep.problems.empty()) {
      std::string msg = path + ": the checkpoint does not match the model (" + std::to_string(rep.problems.size()) + " problem" +
                        (rep.problems.size() > 1 ? "s" : "") + "):";
      for (const auto& p : rep.problems) msg += "\n  " + p;
      if (strict) throw CheckpointError(msg);
      spdlog::warn("{}\n  (not strict: loaded the {} matching tensors, skipped the rest)", msg, rep.loaded.size());
    }
    for (auto& [dst, v] : staged_params) *dst = std::move(v);
    if (rep.optimizer_loaded) {
      for (auto& [dst, v] : staged_opt) *dst = std::move(v);
      opt->set_steps(opt_steps);
      opt->set_lr(opt_lr);
      rep.loaded.insert(rep.loaded.end(), loaded_opt.begin(), loaded_opt.end());
    } else {
      for (auto& n : loaded_opt) problem(rep.skipped, n, "not loaded: the rest of the optimizer's state does not match");
    }
    if (state && rep.state_loaded) *state = std::move(st);
    return rep;
  });
}

template <class T>
LoadReport load_checkpoint(const std::string& path, SequenceModel<T>& model, Optimizer<T>* opt, TrainingState* state, bool strict) {
  check_model_config(path, model.config());
  return load_checkpoint(path, model.parameters(), opt, state, strict);
}

#define REEL_CHECKPOINT_INSTANTIATE(T)                                                                              \
  template void save_checkpoint<T>(const std::string&, const ParameterStore<T>&, const Optimizer<T>*,             \
                                   const TrainingState&, const SequenceModelConfig&, const Vocab*);                \
  template LoadReport load_checkpoint<T>(const std::string&, ParameterStore<T>&, Optimizer<T>*, TrainingState*, bool); \
  template LoadReport load_checkpoint<T>(const std::string&, SequenceModel<T>&, Optimizer<T>*, TrainingState*, bool);
REEL_CHECKPOINT_INSTANTIATE(float)
REEL_CHECKPOINT_INSTANTIATE(double)

}  // namespace reel
