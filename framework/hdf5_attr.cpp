#include <algorithm>

#include "framework/hdf5_detail.h"

namespace reel::h5 {

constexpr size_t kMaxStringBytes = size_t{1} << 20;

using namespace detail;

// ---- attributes

static Id open_attr(const Location& loc, hid_t loc_id, const std::string& key, const std::string& object) {
  const std::string where = loc.describe(object) + "@" + key;
  if (!loc.has_attr(key, object)) throw HDF5Error(where + ": no such attribute");
  Id a(H5Aopen_by_name(loc_id, object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, where, "cannot open the attribute");
  Id space(H5Aget_space(a), H5Sclose, where, "cannot read the attribute's dataspace");
  if (space_points(space) != 1) throw HDF5Error(where + ": expected a single value, found " + std::to_string(space_points(space)));
  return a;
}

template <class T>
static void write_attr(Location& loc, hid_t loc_id, const std::string& key, const std::string& object, hid_t type, const T* value) {
  const std::string where = loc.describe(object) + "@" + key;
  if (loc.has_attr(key, object)) loc.remove_attr(key, object);
  Id space(H5Screate(H5S_SCALAR), H5Sclose, where, "cannot create a dataspace");
  Id a(H5Acreate_by_name(loc_id, object.c_str(), key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
       where, "cannot create the attribute");
  check(H5Awrite(a, type, value), where, "cannot write the attribute");
}

void Location::set_attr(const std::string& k, const std::string& v, const std::string& o) {
  const std::string where = describe(o) + "@" + k;
  Id type(H5Tcopy(H5T_C_S1), H5Tclose, where, "cannot make a string type");
  check(H5Tset_size(type, std::max<size_t>(v.size(), 1)), where, "cannot make a string type");
  check(H5Tset_strpad(type, H5T_STR_NULLPAD), where, "cannot make a string type");
  check(H5Tset_cset(type, H5T_CSET_UTF8), where, "cannot make a string type");
  std::string buf = v;
  buf.resize(std::max<size_t>(v.size(), 1), '\0');
  write_attr(*this, id(), k, o, type, buf.data());
}
void Location::set_attr(const std::string& k, const char* v, const std::string& o) { set_attr(k, std::string(v), o); }
void Location::set_attr(const std::string& k, int64_t v, const std::string& o) { write_attr(*this, id(), k, o, H5T_NATIVE_INT64, &v); }
void Location::set_attr(const std::string& k, double v, const std::string& o) { write_attr(*this, id(), k, o, H5T_NATIVE_DOUBLE, &v); }

bool Location::has_attr(const std::string& key, const std::string& object) const {
  if (object != "." && !has(object)) return false;
  const htri_t e = H5Aexists_by_name(id(), object.c_str(), key.c_str(), H5P_DEFAULT);
  if (e < 0) fail(describe(object) + "@" + key, "cannot look up the attribute");
  return e > 0;
}

DType Location::attr_dtype(const std::string& key, const std::string& object) const {
  Id a = open_attr(*this, id(), key, object);
  Id type(H5Aget_type(a), H5Tclose, describe(object) + "@" + key, "cannot read the type");
  return classify(type);
}

std::vector<std::string> Location::attr_names(const std::string& object) const {
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* n, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(n);
    return 0;
  };
  hsize_t idx = 0;
  check(H5Aiterate_by_name(id(), object.c_str(), H5_INDEX_NAME, H5_ITER_INC, &idx, cb, &names, H5P_DEFAULT), describe(object),
        "cannot list the attributes");
  std::sort(names.begin(), names.end());
  return names;
}

std::string Location::attr_string(const std::string& key, const std::string& object) const {
  const std::string where = describe(object) + "@" + key;
  Id a = open_attr(*this, id(), key, object);
  Id ftype(H5Aget_type(a), H5Tclose, where, "cannot read the type");
  if (H5Tget_class(ftype) != H5T_STRING) throw HDF5Error(where + ": expected a string, found " + dtype_name(classify(ftype)));
  // Variable-length strings are read through the file's global heap, which a damaged file can
  // make HDF5 overrun: reel writes fixed-length strings only and refuses the others.
  if (H5Tis_variable_str(ftype) != 0)
    throw HDF5Error(where + ": a variable-length string; reel files hold fixed-length strings only (h5py: np.bytes_)");
  const size_t size = H5Tget_size(ftype);
  if (size == 0 || size > kMaxStringBytes)
    throw HDF5Error(where + ": a string of " + std::to_string(size) + " bytes (expected 1.." + std::to_string(kMaxStringBytes) + ")");
  // A string's memory type is its file type (same character set and padding: no conversion).
  std::string buf(size, '\0');
  check(H5Aread(a, ftype, buf.data()), where, "cannot read the attribute");
  return buf.substr(0, buf.find('\0'));
}

int64_t Location::attr_int(const std::string& key, const std::string& object) const {
  const std::string where = describe(object) + "@" + key;
  Id a = open_attr(*this, id(), key, object);
  Id ftype(H5Aget_type(a), H5Tclose, where, "cannot read the type");
  if (!is_integer(classify(ftype))) throw HDF5Error(where + ": expected an integer, found " + dtype_name(classify(ftype)));
  int64_t v = 0;
  check(H5Aread(a, H5T_NATIVE_INT64, &v), where, "cannot read the attribute");
  return v;
}

double Location::attr_double(const std::string& key, const std::string& object) const {
  const std::string where = describe(object) + "@" + key;
  Id a = open_attr(*this, id(), key, object);
  Id ftype(H5Aget_type(a), H5Tclose, where, "cannot read the type");
  const DType t = classify(ftype);
  if (!is_float(t) && !is_integer(t)) throw HDF5Error(where + ": expected a number, found " + dtype_name(t));
  double v = 0;
  check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), where, "cannot read the attribute");
  return v;
}

void Location::remove_attr(const std::string& key, const std::string& object) {
  check(H5Adelete_by_name(id(), object.c_str(), key.c_str(), H5P_DEFAULT), describe(object) + "@" + key, "cannot remove the attribute");
}

}  // namespace reel::h5
