#pragma once
/// \file
/// A small RAII layer over the HDF5 C API: files, groups, datasets of numbers or strings, scalar
/// attributes. It is what checkpoints are written with, and what tests use to craft HDF5 files;
/// hdf5.h stays out of this header (handles are plain int64_t, HDF5's hid_t).
///
/// No variable-length data is written: HDF5 1.10 keeps it in the global heap, which carries no
/// checksum, and parsing a damaged one can corrupt memory. Everything reel writes lives either in
/// checksummed metadata (object headers, in the HDF5 1.8 format) or in raw data that is only copied.
///
/// Every failure throws HDF5Error naming the file, the object and the HDF5 library's own
/// innermost message; the library's automatic error printing is switched off process-wide the
/// first time this layer is used (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr)), so nothing from
/// HDF5 reaches the terminal. Serial HDF5 is not thread-safe: use it from one thread at a time.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace reel::h5 {

struct HDF5Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The element type of a dataset or attribute as stored in the file.
enum class DType { Float32, Float64, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, String, Other };
const char* dtype_name(DType t);  ///< "float32", "int64", "string", ...
bool is_float(DType t);
bool is_integer(DType t);

struct DatasetInfo {
  std::vector<int64_t> dims;  ///< empty for a scalar dataset
  DType dtype = DType::Other;
  int64_t elements() const;
};

class Handle;  // an open hid_t and how to close it (internal)

/// A group (or a file's root group). Names are paths relative to this group ("a/b" or "a").
class Location {
 public:
  Location() = default;
  const std::string& file_path() const { return file_; }
  const std::string& name() const { return name_; }  ///< "/" or "/parameters", for messages
  std::string describe(const std::string& child = "") const;  ///< "file.h5:/parameters/x"

  bool has(const std::string& name) const;  ///< a link of that name exists (group or dataset)
  bool is_group(const std::string& name) const;
  bool is_dataset(const std::string& name) const;
  std::vector<std::string> children() const;  ///< link names of this group, sorted
  Location group(const std::string& name) const;  ///< opens an existing group
  Location create_group(const std::string& name);
  Location require_group(const std::string& name);  ///< opens or creates
  void remove(const std::string& name);  ///< unlinks a child

  /// Datasets: contiguous, row-major, dims empty for a scalar. The file type is the memory type.
  void write(const std::string& name, const std::vector<int64_t>& dims, const float* data);
  void write(const std::string& name, const std::vector<int64_t>& dims, const double* data);
  void write(const std::string& name, const std::vector<int64_t>& dims, const int64_t* data);
  void write(const std::string& name, const std::vector<int64_t>& dims, const uint64_t* data);
  void write(const std::string& name, const std::vector<int64_t>& dims, const uint8_t* data);
  DatasetInfo info(const std::string& name) const;
  /// Reads a whole dataset, converting within a class (float32 <-> float64, integer widths); a
  /// float read from an integer dataset or vice versa throws. out must hold info().elements().
  void read(const std::string& name, float* out, int64_t n) const;
  void read(const std::string& name, double* out, int64_t n) const;
  void read(const std::string& name, int64_t* out, int64_t n) const;
  void read(const std::string& name, uint64_t* out, int64_t n) const;
  void read(const std::string& name, uint8_t* out, int64_t n) const;

  /// Scalar attributes of this group (a dataset's attributes: pass its name as `object`). Strings
  /// are written fixed-length (UTF-8, NUL-padded), so they live in the checksummed object header;
  /// both fixed-length and variable-length strings (h5py's default) are read.
  void set_attr(const std::string& key, const std::string& value, const std::string& object = ".");
  void set_attr(const std::string& key, const char* value, const std::string& object = ".");
  void set_attr(const std::string& key, int64_t value, const std::string& object = ".");
  void set_attr(const std::string& key, double value, const std::string& object = ".");
  bool has_attr(const std::string& key, const std::string& object = ".") const;
  DType attr_dtype(const std::string& key, const std::string& object = ".") const;
  std::vector<std::string> attr_names(const std::string& object = ".") const;
  std::string attr_string(const std::string& key, const std::string& object = ".") const;
  int64_t attr_int(const std::string& key, const std::string& object = ".") const;    ///< integer types only
  double attr_double(const std::string& key, const std::string& object = ".") const;  ///< float or integer
  void remove_attr(const std::string& key, const std::string& object = ".");

 protected:
  Location(std::shared_ptr<Handle> h, std::string file, std::string name)
      : h_(std::move(h)), file_(std::move(file)), name_(std::move(name)) {}
  int64_t id() const;
  std::shared_ptr<Handle> h_;
  std::string file_, name_;
};

class File : public Location {
 public:
  /// Creates (truncating) a file. userblock: bytes reserved before the HDF5 data (0, or a power of
  /// two >= 512) for the caller to fill after close(). Metadata uses the HDF5 1.8 format (with
  /// checksums), readable by HDF5 >= 1.8 and h5py.
  static File create(const std::string& path, int64_t userblock = 0);
  static File open(const std::string& path, bool writable = false);
  void flush();
  /// Closes the file (and any object still open in it). Later use of this File or its groups throws.
  void close();
};

/// True if HDF5 recognises path as an HDF5 file (never throws, prints nothing).
bool is_hdf5(const std::string& path);
/// HDF5 objects (files, groups, datasets, types, attributes) open in this process: 0 once every
/// File and Location is gone (tests use it to check that no error path leaves a handle open).
int64_t open_objects();

}  // namespace reel::h5
