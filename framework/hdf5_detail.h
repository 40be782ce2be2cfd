#pragma once
// Internal to reel's HDF5 layer (hdf5_file.cpp, hdf5_attr.cpp): the C API, handle ownership and
// error translation. Not for use outside framework/hdf5_*.cpp.
#include <hdf5.h>

#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "framework/hdf5_file.h"

namespace reel::h5 {

static_assert(std::is_same_v<hid_t, int64_t>, "reel::h5 stores hid_t as int64_t (HDF5 >= 1.10)");

class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() { release(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  herr_t release() {
    herr_t r = 0;
    if (id_ >= 0 && H5Iis_valid(id_) > 0) r = close_(id_);
    id_ = -1;
    H5Eclear2(H5E_DEFAULT);
    return r;
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

namespace detail {

inline void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, never stderr noise
  });
}

inline herr_t collect_error(unsigned, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (e && e->desc && *e->desc) out->push_back(e->desc);
  return 0;
}

// Throws HDF5Error "where: what (HDF5: innermost message)" and clears HDF5's error stack.
[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  std::vector<std::string> stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &stack);
  H5Eclear2(H5E_DEFAULT);
  std::string msg = where + ": " + what;
  if (!stack.empty()) msg += " (HDF5: " + stack.back() + ")";
  throw HDF5Error(msg);
}

// Owns an hid_t for the duration of a call.
struct Id {
  hid_t id;
  herr_t (*close)(hid_t);
  Id(hid_t i, herr_t (*c)(hid_t), const std::string& where, const std::string& what) : id(i), close(c) {
    if (id < 0) fail(where, what);
  }
  ~Id() {
    if (id >= 0) close(id);
  }
  Id(Id&& o) noexcept : id(o.id), close(o.close) { o.id = -1; }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id& operator=(Id&&) = delete;
  operator hid_t() const { return id; }
};

inline void check(herr_t r, const std::string& where, const std::string& what) {
  if (r < 0) fail(where, what);
}

inline DType classify(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) return size == 4 ? DType::Float32 : size == 8 ? DType::Float64 : DType::Other;
  if (cls == H5T_STRING) return DType::String;
  if (cls != H5T_INTEGER) return DType::Other;
  const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
  switch (size) {
    case 1: return is_signed ? DType::Int8 : DType::UInt8;
    case 2: return is_signed ? DType::Int16 : DType::UInt16;
    case 4: return is_signed ? DType::Int32 : DType::UInt32;
    case 8: return is_signed ? DType::Int64 : DType::UInt64;
    default: return DType::Other;
  }
}

inline Id make_space(const std::vector<int64_t>& dims, const std::string& where) {
  if (dims.empty()) return Id(H5Screate(H5S_SCALAR), H5Sclose, where, "cannot create a scalar dataspace");
  std::vector<hsize_t> d;
  for (int64_t v : dims) {
    if (v < 0) throw HDF5Error(where + ": negative dimension " + std::to_string(v));
    d.push_back(static_cast<hsize_t>(v));
  }
  return Id(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr), H5Sclose, where, "cannot create a dataspace");
}

inline int64_t space_points(hid_t space) { return static_cast<int64_t>(H5Sget_simple_extent_npoints(space)); }

inline Id vlen_string_type(const std::string& where) {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose, where, "cannot make a string type");
  check(H5Tset_size(t, H5T_VARIABLE), where, "cannot make a string type");
  check(H5Tset_cset(t, H5T_CSET_UTF8), where, "cannot make a string type");
  return t;
}

}  // namespace detail

}  // namespace reel::h5
