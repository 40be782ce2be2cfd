#pragma once
// Internal helpers shared by framework/checkpoint*.cpp.
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

// Root attributes: format == "reel-checkpoint", format_version == 1, dtype float32|float64.
// Returns the dtype. Throws CheckpointError naming the file and the problem.
std::string check_root(const h5::File& f);
h5::Location require_group(const h5::File& f, const std::string& name);  // throws "no /name group"
SequenceModelConfig read_config(const h5::File& f);  // validated
TrainingState read_state(const h5::File& f);         // /progress and /optimizer hyperparameters

}  // namespace reel::checkpoint_detail
