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

}  // namespace reel
