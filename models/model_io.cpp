#include "models/model_io.h"

#include "data/vocab_io.h"

namespace reel {

AttributeGroup model_config_group(const SequenceModelConfig& c) {
  c.validate();
  AttributeGroup g;
  g.set_origin("", kModelConfigGroup);
  g.set("kind", c.kind);
  g.set("input_dim", c.input_dim);
  g.set("vocab_size", c.vocab_size);
  g.set("embed_dim", c.embed_dim);
  g.set("hidden_dim", c.hidden_dim);
  g.set("num_classes", c.num_classes);
  g.set("activation", c.activation);
  g.set("cell", c.cell);
  g.set("num_layers", c.num_layers);
  g.set("bidirectional", static_cast<int64_t>(c.bidirectional));
  return g;
}

// Since format_version 2 the cell, layers and directions are always written; a version 1 file
// without them holds a one-layer unidirectional vanilla RNN (the defaults).
static void read_runner_fields(const AttributeGroup& g, int64_t format_version, SequenceModelConfig& c) {
  if (format_version >= 2)
    for (const char* k : {"cell", "num_layers", "bidirectional"})
      if (!g.has(k))
        throw CheckpointError(g.where(k) + ": missing (required since format_version 2, which records the model's cell, layers and directions)");
  if (g.has("cell")) c.cell = g.get_string("cell");
  if (g.has("num_layers")) c.num_layers = g.get_int("num_layers");
  if (g.has("bidirectional")) {
    const int64_t b = g.get_int("bidirectional");
    if (b != 0 && b != 1) throw CheckpointError(g.where("bidirectional") + ": " + std::to_string(b) + ", expected 0 or 1");
    c.bidirectional = b == 1;
  }
}

SequenceModelConfig model_config_from_group(const AttributeGroup& g, int64_t format_version) {
  SequenceModelConfig c;
  c.kind = g.get_string("kind");
  if (c.kind == "seq2seq" || c.kind == "generator")
    throw CheckpointError((g.file().empty() ? "" : g.file() + ": ") + "a checkpoint of a " + c.kind + ", not of a classifier or tagger (load it with load_" +
                          (c.kind == "seq2seq" ? "seq2seq" : "generator") + ", models/generation_io.h)");
  c.input_dim = g.get_int("input_dim");
  c.vocab_size = g.get_int("vocab_size");
  c.embed_dim = g.get_int("embed_dim");
  c.hidden_dim = g.get_int("hidden_dim");
  c.num_classes = g.get_int("num_classes");
  c.activation = g.get_string("activation");
  read_runner_fields(g, format_version, c);
  try {
    c.validate();
  } catch (const UsageError& e) {
    throw CheckpointError((g.file().empty() ? "" : g.file() + ": ") + "/" + g.name() + " describes no valid model: " + e.what());
  }
  return c;
}

SequenceModelConfig model_config_of(const CheckpointMeta& meta) {
  return model_config_from_group(meta.group(kModelConfigGroup), meta.format_version);
}

SequenceModelConfig model_config_of(const CheckpointSummary& s) {
  auto it = s.groups.find(kModelConfigGroup);
  if (it == s.groups.end()) throw CheckpointError(s.path + ": the /config group is missing (not a model's checkpoint)");
  return model_config_from_group(it->second, s.format_version);
}

SequenceModelConfig read_model_config(const std::string& path) { return model_config_of(read_checkpoint_meta(path)); }

AttributeGroups model_groups(const SequenceModelConfig& config, const Vocab* vocab) {
  AttributeGroups g{{kModelConfigGroup, model_config_group(config)}};
  if (vocab) g.emplace(kVocabGroup, vocab_group(*vocab));
  return g;
}

std::string describe_model(const SequenceModelConfig& c) {
  std::string s = c.kind + ": ";
  if (c.vocab_size > 0) s += "vocabulary " + std::to_string(c.vocab_size) + " -> embedding " + std::to_string(c.embed_dim);
  else s += "input dim " + std::to_string(c.input_dim);
  s += " -> " + c.cell + (c.cell == "rnn" ? " (" + c.activation + ")" : std::string());
  s += ", " + std::to_string(c.num_layers) + (c.num_layers == 1 ? " layer" : " layers");
  s += c.bidirectional ? ", bidirectional" : "";
  return s + ", hidden " + std::to_string(c.hidden_dim) + " -> " + std::to_string(c.num_classes) + " classes";
}

void check_model_config(const std::string& path, const SequenceModelConfig& want) {
  const SequenceModelConfig have = read_model_config(path);
  std::vector<std::string> diffs;
  auto cmp_i = [&](const char* name, int64_t file, int64_t model) {
    if (file != model) diffs.push_back(std::string(name) + " " + std::to_string(file) + " in the file, " + std::to_string(model) + " in the model");
  };
  auto cmp_s = [&](const char* name, const std::string& file, const std::string& model) {
    if (file != model) diffs.push_back(std::string(name) + " '" + file + "' in the file, '" + model + "' in the model");
  };
  cmp_s("kind", have.kind, want.kind);
  cmp_i("input_dim", have.input_dim, want.input_dim);
  cmp_i("vocab_size", have.vocab_size, want.vocab_size);
  cmp_i("embed_dim", have.embed_dim, want.embed_dim);
  cmp_i("hidden_dim", have.hidden_dim, want.hidden_dim);
  cmp_i("num_classes", have.num_classes, want.num_classes);
  cmp_s("activation", have.activation, want.activation);
  cmp_s("cell", have.cell, want.cell);
  cmp_i("num_layers", have.num_layers, want.num_layers);
  cmp_i("bidirectional", have.bidirectional, want.bidirectional);
  if (diffs.empty()) return;
  std::string msg = path + ": a checkpoint of another model" +
                    (have.kind != want.kind ? " (a " + have.kind + ", loaded into a " + want.kind + ")" : std::string()) + ":";
  for (const auto& d : diffs) msg += "\n  " + d;
  throw CheckpointError(msg);
}

template <class T>
void save_checkpoint(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
                     const SequenceModelConfig& config, const Vocab* vocab) {
  save_checkpoint(path, store, opt, state, model_groups(config, vocab));
}

template <class T>
LoadReport load_checkpoint(const std::string& path, SequenceModel<T>& model, OptimizerPtr<T> opt, TrainingState* state, bool strict) {
  check_model_config(path, model.config());
  return load_checkpoint(path, model.parameters(), opt, state, strict);
}

#define REEL_MODEL_IO_INSTANTIATE(T)                                                                                     \
  template void save_checkpoint<T>(const std::string&, const ParameterStore<T>&, const Optimizer<T>*, const TrainingState&, \
                                   const SequenceModelConfig&, const Vocab*);                                           \
  template LoadReport load_checkpoint<T>(const std::string&, SequenceModel<T>&, Optimizer<T>*, TrainingState*, bool);
REEL_MODEL_IO_INSTANTIATE(float)
REEL_MODEL_IO_INSTANTIATE(double)

}  // namespace reel
