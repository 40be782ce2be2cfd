// Attribute groups: the generic named groups a checkpoint stores for models/ and data/ (a model's
// configuration, a vocabulary) without knowing what they mean.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "framework/checkpoint_detail.h"

namespace reel {

namespace {

const char* type_name(const AttributeValue& v) {
  return std::holds_alternative<int64_t>(v) ? "an integer" : std::holds_alternative<double>(v) ? "a float" : "a string";
}

}  // namespace

AttributeGroup& AttributeGroup::set(const std::string& key, int64_t v) {
  attrs_[key] = v;
  return *this;
}
AttributeGroup& AttributeGroup::set(const std::string& key, double v) {
  attrs_[key] = v;
  return *this;
}
AttributeGroup& AttributeGroup::set(const std::string& key, std::string v) {
  attrs_[key] = std::move(v);
  return *this;
}

AttributeGroup& AttributeGroup::set_strings(const std::string& name, std::vector<std::string> list) {
  for (const auto& s : list)
    if (s.find('\n') != std::string::npos)
      throw UsageError("AttributeGroup " + where() + ": string list '" + name + "' holds a string with a newline (strings are stored joined by newlines)");
  if (list.size() == 1 && list[0].empty())
    throw UsageError("AttributeGroup " + where() + ": string list '" + name + "' is [\"\"], which reads back as the empty list");
  lists_[name] = std::move(list);
  return *this;
}

std::string AttributeGroup::where(const std::string& key) const {
  std::string w = (file_.empty() ? "" : file_ + ":") + "/" + name_;
  return key.empty() ? w : w + "@" + key;
}

void AttributeGroup::set_origin(std::string file, std::string name) {
  file_ = std::move(file);
  name_ = std::move(name);
}

const AttributeValue& AttributeGroup::value(const std::string& key) const {
  auto it = attrs_.find(key);
  if (it == attrs_.end()) throw CheckpointError(where(key) + ": no such attribute");
  return it->second;
}

int64_t AttributeGroup::get_int(const std::string& key) const {
  const AttributeValue& v = value(key);
  if (!std::holds_alternative<int64_t>(v)) throw CheckpointError(where(key) + ": expected an integer, found " + type_name(v));
  return std::get<int64_t>(v);
}

double AttributeGroup::get_double(const std::string& key) const {
  const AttributeValue& v = value(key);
  if (std::holds_alternative<int64_t>(v)) return static_cast<double>(std::get<int64_t>(v));
  if (!std::holds_alternative<double>(v)) throw CheckpointError(where(key) + ": expected a number, found " + type_name(v));
  return std::get<double>(v);
}

const std::string& AttributeGroup::get_string(const std::string& key) const {
  const AttributeValue& v = value(key);
  if (!std::holds_alternative<std::string>(v)) throw CheckpointError(where(key) + ": expected a string, found " + type_name(v));
  return std::get<std::string>(v);
}

const std::vector<std::string>& AttributeGroup::get_strings(const std::string& name) const {
  auto it = lists_.find(name);
  if (it == lists_.end()) throw CheckpointError(where() + "/" + name + ": no such string list");
  return it->second;
}

std::string to_string(const AttributeValue& v) {
  if (std::holds_alternative<int64_t>(v)) return std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<std::string>(v)) return "'" + std::get<std::string>(v) + "'";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v));
  for (int digits = 1; digits < 17; ++digits) {  // the shortest form that reads back exactly
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", digits, std::get<double>(v));
    if (std::strtod(shorter, nullptr) == std::get<double>(v)) return shorter;
  }
  return buf;
}

const AttributeGroup* CheckpointMeta::find(const std::string& name) const {
  auto it = groups.find(name);
  return it == groups.end() ? nullptr : &it->second;
}

const AttributeGroup& CheckpointMeta::group(const std::string& name) const {
  const AttributeGroup* g = find(name);
  if (!g) throw CheckpointError(path + ": the /" + name + " group is missing (not a complete reel checkpoint)");
  return *g;
}

namespace checkpoint_detail {

void write_group(h5::Location& g, const AttributeGroup& group) {
  for (const auto& [key, v] : group.attributes()) {
    check_name("attribute", key);
    std::visit([&, k = key](const auto& x) { g.set_attr(k, x); }, v);
  }
  for (const auto& [name, list] : group.string_lists()) {
    check_name("string list", name);
    std::string joined;
    for (size_t i = 0; i < list.size(); ++i) joined += (i ? "\n" : "") + list[i];
    g.write(name, {static_cast<int64_t>(joined.size())}, reinterpret_cast<const uint8_t*>(joined.data()));
  }
}

static std::vector<std::string> split_lines(const std::string& joined) {
  std::vector<std::string> out;
  if (joined.empty()) return out;
  for (size_t start = 0;;) {
    const size_t nl = joined.find('\n', start);
    out.push_back(joined.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

AttributeGroup read_group(const h5::File& f, const std::string& name) {
  const h5::Location g = require_group(f, name);
  AttributeGroup out;
  out.set_origin(f.file_path(), name);
  for (const auto& key : g.attr_names()) {
    const h5::DType t = g.attr_dtype(key);
    if (t == h5::DType::String) out.set(key, g.attr_string(key));
    else if (h5::is_integer(t)) out.set(key, g.attr_int(key));
    else if (h5::is_float(t)) out.set(key, g.attr_double(key));
    else throw CheckpointError(g.describe() + "@" + key + ": a " + h5::dtype_name(t) + " attribute (attribute groups hold integers, floats and strings)");
  }
  for (const auto& child : g.children()) {
    if (!g.is_dataset(child))
      throw CheckpointError(g.describe(child) + ": a group inside the attribute group /" + name + " (it holds only attributes and string lists)");
    const h5::DatasetInfo inf = g.info(child);
    if (inf.dtype != h5::DType::UInt8 || inf.dims.size() != 1)
      throw CheckpointError(g.describe(child) + ": must be a 1-d uint8 dataset (UTF-8 strings joined by newlines), found " +
                            h5::dtype_name(inf.dtype) + " " + dims_str(inf.dims));
    std::string joined(static_cast<size_t>(inf.elements()), '\0');
    g.read(child, reinterpret_cast<uint8_t*>(joined.data()), inf.elements());
    out.set_strings(child, split_lines(joined));
  }
  return out;
}

AttributeGroups read_groups(const h5::File& f) {
  AttributeGroups out;
  for (const auto& name : f.children())
    if (!is_framework_group(name) && f.is_group(name)) out.emplace(name, read_group(f, name));
  return out;
}

}  // namespace checkpoint_detail

}  // namespace reel
