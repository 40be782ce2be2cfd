#include "framework/hdf5_file.h"

#include <algorithm>

#include "framework/hdf5_detail.h"

namespace reel::h5 {

using namespace detail;

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int8: return "int8";
    case DType::Int16: return "int16";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
    case DType::UInt16: return "uint16";
    case DType::UInt32: return "uint32";
    case DType::UInt64: return "uint64";
    case DType::String: return "string";
    default: return "unsupported type";
  }
}
bool is_float(DType t) { return t == DType::Float32 || t == DType::Float64; }
bool is_integer(DType t) { return t != DType::String && t != DType::Other && !is_float(t); }

int64_t DatasetInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) {
      std::string shape;
      for (int64_t e : dims) shape += (shape.empty() ? "" : " x ") + std::to_string(e);
      throw HDF5Error("a dataset of dimensions " + shape + ": the element count overflows 64 bits");
    }
  return n;
}

// ---- Location

std::string Location::describe(const std::string& child) const {
  std::string n = name_;
  if (!child.empty() && child != ".") n = (n == "/" ? "/" : n + "/") + child;
  return file_ + ":" + n;
}

int64_t Location::id() const {
  if (!h_ || h_->id() < 0 || H5Iis_valid(h_->id()) <= 0) throw HDF5Error(describe() + ": used after the file was closed");
  return h_->id();
}

// Lookups fail loudly: a damaged object header must not read as "absent".
bool Location::has(const std::string& name) const {
  const hid_t loc = id();
  if (name.empty()) return false;
  size_t start = 0;
  while (true) {  // every component must exist, or H5Lexists fails
    const size_t slash = name.find('/', start);
    const std::string prefix = name.substr(0, slash);
    const htri_t e = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
    if (e < 0) fail(describe(prefix), "cannot look up");
    if (e == 0) return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// reel files hold hard links only: a soft or external link is refused before HDF5 follows it (an
// external link may name any file, a FIFO among them, where opening it would block).
static void require_hard_link(const Location& l, hid_t loc, const std::string& name) {
  H5L_info_t li;
  if (H5Lget_info(loc, name.c_str(), &li, H5P_DEFAULT) < 0) fail(l.describe(name), "cannot look up the link");
  if (li.type != H5L_TYPE_HARD)
    throw HDF5Error(l.describe(name) + ": " + (li.type == H5L_TYPE_EXTERNAL ? "an external link" : "a soft link") +
                    " (reel files hold only hard links to their own objects)");
}

static H5I_type_t object_type(const Location& l, hid_t loc, const std::string& name) {
  require_hard_link(l, loc, name);
  Id o(H5Oopen(loc, name.c_str(), H5P_DEFAULT), H5Oclose, l.describe(name), "cannot open");
  const H5I_type_t t = H5Iget_type(o);
  if (t == H5I_BADID) fail(l.describe(name), "cannot tell what kind of object it is");
  return t;
}

bool Location::is_group(const std::string& name) const { return has(name) && object_type(*this, id(), name) == H5I_GROUP; }
bool Location::is_dataset(const std::string& name) const { return has(name) && object_type(*this, id(), name) == H5I_DATASET; }

std::vector<std::string> Location::children() const {
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* n, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(n);
    return 0;
  };
  hsize_t idx = 0;
  check(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, &idx, cb, &names), describe(), "cannot list the group");
  std::sort(names.begin(), names.end());
  return names;
}

Location Location::group(const std::string& name) const {
  if (!is_group(name)) throw HDF5Error(describe(name) + ": no such group");
  const hid_t g = H5Gopen2(id(), name.c_str(), H5P_DEFAULT);
  if (g < 0) fail(describe(name), "cannot open the group");
  return Location(std::make_shared<Handle>(g, H5Gclose), file_, describe(name).substr(file_.size() + 1));
}

Location Location::create_group(const std::string& name) {
  const hid_t g = H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) fail(describe(name), "cannot create the group");
  return Location(std::make_shared<Handle>(g, H5Gclose), file_, describe(name).substr(file_.size() + 1));
}

Location Location::require_group(const std::string& name) { return has(name) ? group(name) : create_group(name); }

void Location::remove(const std::string& name) {
  check(H5Ldelete(id(), name.c_str(), H5P_DEFAULT), describe(name), "cannot remove");
}

// ---- datasets

template <class T>
static void write_dataset(hid_t loc, const std::string& where, const std::string& name, const std::vector<int64_t>& dims,
                          const T* data, hid_t file_type, hid_t mem_type) {
  Id space = make_space(dims, where);
  Id ds(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose, where,
        "cannot create the dataset");
  if (space_points(space) > 0) check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), where, "cannot write the dataset");
}

void Location::write(const std::string& n, const std::vector<int64_t>& d, const float* p) { write_dataset(id(), describe(n), n, d, p, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT); }
void Location::write(const std::string& n, const std::vector<int64_t>& d, const double* p) { write_dataset(id(), describe(n), n, d, p, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE); }
void Location::write(const std::string& n, const std::vector<int64_t>& d, const int64_t* p) { write_dataset(id(), describe(n), n, d, p, H5T_STD_I64LE, H5T_NATIVE_INT64); }
void Location::write(const std::string& n, const std::vector<int64_t>& d, const uint64_t* p) { write_dataset(id(), describe(n), n, d, p, H5T_STD_U64LE, H5T_NATIVE_UINT64); }
void Location::write(const std::string& n, const std::vector<int64_t>& d, const uint8_t* p) { write_dataset(id(), describe(n), n, d, p, H5T_STD_U8LE, H5T_NATIVE_UINT8); }

// reel writes every dataset contiguous, uncompressed and allocated, inside the file. Anything
// else is refused before a read: a compressed dataset can expand 50,000:1, an unallocated one of
// 2^40 elements reads as fill values, raw data in external files can be a FIFO.
static void require_plain_storage(hid_t ds, const std::string& where, int64_t logical_bytes) {
  Id plist(H5Dget_create_plist(ds), H5Pclose, where, "cannot read the creation properties");
  const H5D_layout_t layout = H5Pget_layout(plist);
  if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT)
    throw HDF5Error(where + ": stored " + (layout == H5D_CHUNKED ? "in chunks (compressed or extendible)" : "in a virtual or unknown layout") +
                    "; reel files store every dataset contiguous and uncompressed");
  if (H5Pget_external_count(plist) > 0) throw HDF5Error(where + ": its data lives in external files; reel keeps data inside the file");
  const hsize_t stored = H5Dget_storage_size(ds);
  if (logical_bytes > 0 && static_cast<int64_t>(stored) != logical_bytes)
    throw HDF5Error(where + ": " + std::to_string(stored) + " bytes stored for " + std::to_string(logical_bytes) +
                    " bytes of values (unallocated or damaged)");
}

DatasetInfo Location::info(const std::string& name) const {
  const std::string where = describe(name);
  if (!is_dataset(name)) throw HDF5Error(where + ": no such dataset");
  Id ds(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose, where, "cannot open the dataset");
  Id space(H5Dget_space(ds), H5Sclose, where, "cannot read the dataspace");
  Id type(H5Dget_type(ds), H5Tclose, where, "cannot read the type");
  DatasetInfo out;
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) fail(where, "cannot read the dataspace");
  std::vector<hsize_t> d(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, d.data(), nullptr) < 0) fail(where, "cannot read the dimensions");
  for (hsize_t v : d) out.dims.push_back(static_cast<int64_t>(v));
  out.dtype = classify(type);
  int64_t bytes = 0;
  if (__builtin_mul_overflow(out.elements(), static_cast<int64_t>(H5Tget_size(type)), &bytes))
    throw HDF5Error(where + ": the dataset's size overflows 64 bits");
  require_plain_storage(ds, where, bytes);  // before anyone allocates for its values
  return out;
}

template <class T>
static void read_dataset(const Location& loc, hid_t loc_id, const std::string& name, T* out, int64_t n, hid_t mem_type, bool want_float) {
  const std::string where = loc.describe(name);
  const DatasetInfo inf = loc.info(name);
  if (want_float ? !is_float(inf.dtype) : !is_integer(inf.dtype))
    throw HDF5Error(where + ": holds " + dtype_name(inf.dtype) + " values, expected " + (want_float ? "floating-point" : "integer") + " values");
  if (inf.elements() != n)
    throw HDF5Error(where + ": holds " + std::to_string(inf.elements()) + " values, expected " + std::to_string(n));
  Id ds(H5Dopen2(loc_id, name.c_str(), H5P_DEFAULT), H5Dclose, where, "cannot open the dataset");
  if (n > 0) check(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), where, "cannot read the dataset");
}

void Location::read(const std::string& n, float* o, int64_t c) const { read_dataset(*this, id(), n, o, c, H5T_NATIVE_FLOAT, true); }
void Location::read(const std::string& n, double* o, int64_t c) const { read_dataset(*this, id(), n, o, c, H5T_NATIVE_DOUBLE, true); }
void Location::read(const std::string& n, int64_t* o, int64_t c) const { read_dataset(*this, id(), n, o, c, H5T_NATIVE_INT64, false); }
void Location::read(const std::string& n, uint64_t* o, int64_t c) const { read_dataset(*this, id(), n, o, c, H5T_NATIVE_UINT64, false); }
void Location::read(const std::string& n, uint8_t* o, int64_t c) const { read_dataset(*this, id(), n, o, c, H5T_NATIVE_UINT8, false); }

// ---- files

static Id file_access(const std::string& path) {
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "cannot create a property list");
  check(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18), path, "cannot set the format version");
  check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), path, "cannot set the close degree");
  return fapl;
}

File File::create(const std::string& path, int64_t userblock) {
  init_library();
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, path, "cannot create a property list");
  if (userblock > 0) check(H5Pset_userblock(fcpl, static_cast<hsize_t>(userblock)), path, "bad user block size");
  Id fapl = file_access(path);
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  if (f < 0) fail(path, "cannot create the HDF5 file");
  File out;
  out.h_ = std::make_shared<Handle>(f, H5Fclose);
  out.file_ = path;
  out.name_ = "/";
  return out;
}

File File::open(const std::string& path, bool writable) {
  init_library();
  Id fapl = file_access(path);
  const hid_t f = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  if (f < 0) fail(path, "cannot open as an HDF5 file");
  File out;
  out.h_ = std::make_shared<Handle>(f, H5Fclose);
  out.file_ = path;
  out.name_ = "/";
  return out;
}

void File::flush() { check(H5Fflush(id(), H5F_SCOPE_GLOBAL), file_, "cannot flush"); }

void File::close() {
  if (!h_) return;
  id();  // throws if already closed
  if (h_->release() < 0) throw HDF5Error(file_ + ": cannot close the HDF5 file");
  h_.reset();
}

bool is_hdf5(const std::string& path) {
  init_library();
  const htri_t r = H5Fis_hdf5(path.c_str());
  H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

int64_t open_objects() {
  init_library();
  const ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  H5Eclear2(H5E_DEFAULT);
  return static_cast<int64_t>(n);
}

}  // namespace reel::h5
