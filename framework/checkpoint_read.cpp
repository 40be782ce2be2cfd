// Reading a checkpoint's small parts: root attributes, configuration, progress, vocabulary.
#include <cmath>

#include "framework/checkpoint_detail.h"
#include "framework/checkpoint_file.h"

namespace reel {

namespace checkpoint_detail {

std::vector<int64_t> dims_of(const Shape& s) {
  std::vector<int64_t> d;
  for (int i = 0; i < s.rank; ++i) d.push_back(s[i]);
  return d;
}

Shape shape_of(const std::vector<int64_t>& dims) {
  if (dims.size() > static_cast<size_t>(Shape::kMaxRank))
    throw UsageError("a tensor of rank " + std::to_string(dims.size()) + " (reel's maximum is 4)");
  Shape s;
  for (int64_t d : dims) s.dims[static_cast<size_t>(s.rank++)] = d;
  return s;
}

std::string dims_str(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + ")";
}

static std::string path_of(const h5::Location& f) { return f.file_path(); }

std::string check_root(const h5::File& f) {
  const std::string path = path_of(f);
  if (!f.has_attr("format") || f.attr_dtype("format") != h5::DType::String)
    throw CheckpointError(path + ": not a reel checkpoint: the root attribute 'format' is missing (an HDF5 file of something else?)");
  const std::string format = f.attr_string("format");
  if (format != kCheckpointFormat)
    throw CheckpointError(path + ": not a reel checkpoint: format is '" + format + "', expected '" + kCheckpointFormat + "'");
  if (!f.has_attr("format_version")) throw CheckpointError(path + ": the root attribute 'format_version' is missing");
  const int64_t version = f.attr_int("format_version");
  if (version != kCheckpointFormatVersion)
    throw CheckpointError(path + ": unsupported format_version " + std::to_string(version) + " (this reel, version " + REEL_VERSION +
                          ", reads version " + std::to_string(kCheckpointFormatVersion) + ")");
  if (!f.has_attr("dtype")) throw CheckpointError(path + ": the root attribute 'dtype' is missing");
  const std::string dtype = f.attr_string("dtype");
  if (dtype != "float32" && dtype != "float64")
    throw CheckpointError(path + ": dtype is '" + dtype + "', expected 'float32' or 'float64'");
  return dtype;
}

h5::Location require_group(const h5::File& f, const std::string& name) {
  if (!f.is_group(name)) throw CheckpointError(path_of(f) + ": the /" + name + " group is missing (not a complete reel checkpoint)");
  return f.group(name);
}

SequenceModelConfig read_config(const h5::File& f) {
  const h5::Location g = require_group(f, "config");
  SequenceModelConfig c;
  c.kind = g.attr_string("kind");
  c.input_dim = g.attr_int("input_dim");
  c.vocab_size = g.attr_int("vocab_size");
  c.embed_dim = g.attr_int("embed_dim");
  c.hidden_dim = g.attr_int("hidden_dim");
  c.num_classes = g.attr_int("num_classes");
  c.activation = g.attr_string("activation");
  // Written since reel 0.2; a file without them holds a one-layer unidirectional vanilla RNN.
  if (g.has_attr("cell")) c.cell = g.attr_string("cell");
  if (g.has_attr("num_layers")) c.num_layers = g.attr_int("num_layers");
  if (g.has_attr("bidirectional")) {
    const int64_t b = g.attr_int("bidirectional");
    if (b != 0 && b != 1) throw CheckpointError(path_of(f) + ": /config bidirectional is " + std::to_string(b) + ", expected 0 or 1");
    c.bidirectional = b == 1;
  }
  try {
    c.validate();
  } catch (const UsageError& e) {
    throw CheckpointError(path_of(f) + ": /config describes no valid model: " + e.what());
  }
  return c;
}

TrainingState read_state(const h5::File& f) {
  const std::string path = path_of(f);
  const h5::Location g = require_group(f, "progress");
  TrainingState s;
  s.epoch = g.attr_int("epoch");
  s.global_step = g.attr_int("global_step");
  s.batch_in_epoch = g.attr_int("batch_in_epoch");
  s.best_dev = g.attr_double("best_dev");
  if (s.epoch < 0 || s.global_step < 0 || s.batch_in_epoch < 0)
    throw CheckpointError(path + ": /progress holds a negative epoch, global_step or batch_in_epoch");
  if (g.is_group("rng")) {
    const h5::Location rng = g.group("rng");
    for (const auto& name : rng.children()) {
      std::array<uint64_t, 6> st{};
      rng.read(name, st.data(), 6);
      s.rng[name] = st;
    }
  }
  if (g.is_dataset("carried_hidden")) {
    const h5::DatasetInfo inf = g.info("carried_hidden");
    s.carried_hidden_shape = shape_of(inf.dims);
    s.carried_hidden.resize(static_cast<size_t>(inf.elements()));
    g.read("carried_hidden", s.carried_hidden.data(), inf.elements());
  }
  if (g.is_group("metrics")) {
    const h5::Location m = g.group("metrics");
    for (const auto& k : m.attr_names()) s.metrics[k] = m.attr_double(k);
  }
  if (f.is_group("optimizer")) {
    const h5::Location o = f.group("optimizer");
    for (const auto& k : o.attr_names())
      if (k != "kind" && k != "lr" && k != "steps") s.optimizer_hparams[k] = o.attr_double(k);
  }
  return s;
}

}  // namespace checkpoint_detail

using namespace checkpoint_detail;

void check_model_config(const std::string& path, const SequenceModelConfig& want) {
  const SequenceModelConfig have = guarded(path, [&] {
    h5::File f = checkpoint_file::open_verified(path);
    check_root(f);
    return read_config(f);
  });
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

SequenceModelConfig read_model_config(const std::string& path) {
  return guarded(path, [&] {
    h5::File f = checkpoint_file::open_verified(path);
    check_root(f);
    return read_config(f);
  });
}

std::optional<Vocab> read_vocab(const std::string& path) {
  return guarded(path, [&]() -> std::optional<Vocab> {
    h5::File f = checkpoint_file::open_verified(path);
    check_root(f);
    if (!f.has("vocab")) return std::nullopt;
    const h5::Location g = require_group(f, "vocab");
    const h5::DatasetInfo inf = g.info("words");
    if (inf.dtype != h5::DType::UInt8 || inf.dims.size() != 1)
      throw CheckpointError(path + ": /vocab/words must be a 1-d uint8 dataset (UTF-8 words joined by newlines), found " +
                            h5::dtype_name(inf.dtype) + " " + dims_str(inf.dims));
    std::string joined(static_cast<size_t>(inf.elements()), '\0');
    g.read("words", reinterpret_cast<uint8_t*>(joined.data()), inf.elements());
    std::vector<std::string> words;
    for (size_t start = 0;;) {
      const size_t nl = joined.find('\n', start);
      words.push_back(joined.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    const int64_t size = g.attr_int("size");
    if (size != static_cast<int64_t>(words.size()))
      throw CheckpointError(path + ": /vocab/words holds " + std::to_string(words.size()) + " words, its size attribute says " +
                            std::to_string(size));
    const bool lower = g.has_attr("lowercase") && g.attr_int("lowercase") != 0;
    try {
      return Vocab::from_words(words, lower);
    } catch (const std::exception& e) {
      throw CheckpointError(path + ": /vocab/words is not a valid vocabulary: " + e.what());
    }
  });
}

TrainingState read_training_state(const std::string& path) {
  return guarded(path, [&] {
    h5::File f = checkpoint_file::open_verified(path);
    check_root(f);
    return read_state(f);
  });
}

std::string read_checkpoint_dtype(const std::string& path) {
  return guarded(path, [&] {
    h5::File f = checkpoint_file::open_verified(path);
    return check_root(f);
  });
}

}  // namespace reel
