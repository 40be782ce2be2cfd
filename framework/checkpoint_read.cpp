// Reading a checkpoint's small parts: root attributes, progress, optimizer hyperparameters, and
// the metadata (root attributes and attribute groups) in one pass.
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

bool is_framework_group(const std::string& name) { return name == "parameters" || name == "optimizer" || name == "progress"; }

void check_name(const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    throw UsageError("save_checkpoint: " + what + " name '" + name + "' cannot be stored (it must be non-empty, without '/')");
}

static std::string path_of(const h5::Location& f) { return f.file_path(); }

static int64_t check_version(const h5::File& f) {
  const std::string path = path_of(f);
  if (!f.has_attr("format_version")) throw CheckpointError(path + ": the root attribute 'format_version' is missing");
  const int64_t version = f.attr_int("format_version");
  const std::string reads = " (this reel, version " + std::string(REEL_VERSION) + ", reads versions " +
                            std::to_string(kOldestReadableFormatVersion) + " to " + std::to_string(kCheckpointFormatVersion) + ")";
  if (version > kCheckpointFormatVersion)
    throw CheckpointError(path + ": unsupported format_version " + std::to_string(version) + reads +
                          ": it comes from a newer reel (its root attribute reel_version says which); "
                          "read it with that release or a later one");
  if (version < kOldestReadableFormatVersion)
    throw CheckpointError(path + ": unsupported format_version " + std::to_string(version) + reads +
                          ": no reel writes such a file; it is damaged or not a reel checkpoint");
  return version;
}

Root check_root(const h5::File& f) {
  const std::string path = path_of(f);
  if (!f.has_attr("format") || f.attr_dtype("format") != h5::DType::String)
    throw CheckpointError(path + ": not a reel checkpoint: the root attribute 'format' is missing (an HDF5 file of something else?)");
  const std::string format = f.attr_string("format");
  if (format != kCheckpointFormat)
    throw CheckpointError(path + ": not a reel checkpoint: format is '" + format + "', expected '" + kCheckpointFormat + "'");
  Root r;
  r.format_version = check_version(f);
  if (!f.has_attr("dtype")) throw CheckpointError(path + ": the root attribute 'dtype' is missing");
  r.dtype = f.attr_string("dtype");
  if (r.dtype != "float32" && r.dtype != "float64")
    throw CheckpointError(path + ": dtype is '" + r.dtype + "', expected 'float32' or 'float64'");
  return r;
}

h5::Location require_group(const h5::File& f, const std::string& name) {
  if (!f.is_group(name)) throw CheckpointError(path_of(f) + ": the /" + name + " group is missing (not a complete reel checkpoint)");
  return f.group(name);
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
  return s;
}

std::map<std::string, double> read_hyperparameters(const h5::Location& o) {
  std::map<std::string, double> h;
  for (const auto& k : o.attr_names())
    if (k != "kind" && k != "lr" && k != "steps") h[k] = o.attr_double(k);
  return h;
}

}  // namespace checkpoint_detail

using namespace checkpoint_detail;

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  return guarded(path, [&] {
    h5::File f = checkpoint_file::open_verified(path);
    const Root root = check_root(f);
    CheckpointMeta m;
    m.path = path;
    m.format_version = root.format_version;
    m.dtype = root.dtype;
    m.reel_version = f.has_attr("reel_version") ? f.attr_string("reel_version") : "unknown";
    m.groups = read_groups(f);
    return m;
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
    return check_root(f).dtype;
  });
}

}  // namespace reel
