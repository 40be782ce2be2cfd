#pragma once
// Internal helpers shared by framework/checkpoint*.cpp.
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "framework/checkpoint.h"
#include "framework/hdf5_file.h"

namespace reel::checkpoint_detail {

template <class T>
constexpr const char* dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "checkpoints hold float or double");
  return std::is_same_v<T, float> ? "float32" : "float64";
}
template <class T>
constexpr h5::DType h5_dtype_of() {
  return std::is_same_v<T, float> ? h5::DType::Float32 : h5::DType::Float64;
}

std::vector<int64_t> dims_of(const Shape& s);
Shape shape_of(const std::vector<int64_t>& dims);  // throws UsageError above rank 4
std::string dims_str(const std::vector<int64_t>& dims);  // "(3, 4)"

// Runs fn; HDF5 and usage errors from reading a file become CheckpointError (their messages
// already name the file and object; others get "path: " in front).
template <class F>
auto guarded(const std::string& path, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const CheckpointError&) {
    throw;
  } catch (const h5::HDF5Error& e) {
    throw CheckpointError(e.what());
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": " + e.what());
  }
}

// The framework's own top-level groups; every other one is an attribute group.
bool is_framework_group(const std::string& name);
// A name the file can hold: non-empty, without '/', not "." or "..". Throws UsageError naming what.
void check_name(const std::string& what, const std::string& name);

struct Root {
  int64_t format_version = 0;
  std::string dtype;  // "float32" | "float64"
};
// Root attributes: format == "reel-checkpoint", a readable format_version, dtype float32|float64.
// Throws CheckpointError naming the file, the problem and what to do.
Root check_root(const h5::File& f);
h5::Location require_group(const h5::File& f, const std::string& name);  // throws "no /name group"
TrainingState read_state(const h5::File& f);  // /progress
// /optimizer attributes other than kind, lr and steps.
std::map<std::string, double> read_hyperparameters(const h5::Location& optimizer);

// Attribute groups (checkpoint_groups.cpp): scalars as attributes, string lists as 1-d uint8
// datasets of the strings joined by '\n'.
void write_group(h5::Location& g, const AttributeGroup& group);
AttributeGroup read_group(const h5::File& f, const std::string& name);
AttributeGroups read_groups(const h5::File& f);  // every top-level group but the framework's

}  // namespace reel::checkpoint_detail
