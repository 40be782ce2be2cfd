#include "data/idx.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <limits>

#include "data/data_error.h"
#include "data/gz_file.h"
#include "framework/error.h"

namespace reel {
namespace {

constexpr int kMaxDims = 16;
constexpr int kNumClasses = 10;
constexpr int64_t kMaxIdxBytes = int64_t{1} << 32;  // 4 GiB: 90 Fashion-MNISTs

std::string hex_byte(unsigned v) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[(v >> 4) & 15] + digits[v & 15];
}

std::vector<int64_t> read_header(GzFile& f) {
  const std::string& path = f.path();
  unsigned char magic[4];
  const int64_t got_magic = f.read(magic, 4);
  if (got_magic < 4)
    throw_data(path, "expected a 4-byte IDX magic number, got " + std::to_string(got_magic) +
                         " bytes");
  if (magic[0] != 0 || magic[1] != 0)
    throw_data(path, "bad IDX magic: expected first two bytes 0x00 0x00, got " +
                         hex_byte(magic[0]) + " " + hex_byte(magic[1]));
  if (magic[2] != 0x08)
    throw_data(path, "unsupported IDX element type " + hex_byte(magic[2]) +
                         ": expected 0x08 (unsigned byte)");
  const int ndim = magic[3];
  if (ndim < 1 || ndim > kMaxDims)
    throw_data(path, "bad IDX ndim " + std::to_string(ndim) + ": expected 1.." +
                         std::to_string(kMaxDims));

  std::vector<int64_t> dims(static_cast<size_t>(ndim));
  for (int d = 0; d < ndim; ++d) {
    unsigned char b[4];
    const int64_t got = f.read(b, 4);
    if (got < 4)
      throw_data(path, "truncated IDX header: expected " + std::to_string(4 + 4 * ndim) +
                           " header bytes, got " + std::to_string(4 + 4 * d + got));
    dims[static_cast<size_t>(d)] = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) |
                                   (int64_t{b[2]} << 8) | int64_t{b[3]};
  }
  return dims;
}

}  // namespace

std::vector<int64_t> read_idx_dims(const std::string& path) {
  GzFile f(path);
  return read_header(f);
}

IdxArray read_idx(const std::string& path, int64_t max_items) {
  GzFile f(path);
  IdxArray out;
  out.dims = read_header(f);
  const int64_t full_items = out.dims[0];
  if (max_items >= 0 && max_items < out.dims[0]) out.dims[0] = max_items;

  int64_t total = 1;
  for (int64_t d : out.dims) {
    if (d != 0 && total > std::numeric_limits<int64_t>::max() / 4 / d)
      throw_data(path, "IDX dimensions too large");
    total *= d;
  }
  if (total > kMaxIdxBytes)
    throw_data(path, "the IDX header claims " + std::to_string(total) + " bytes of data, more than the limit of " +
                         std::to_string(kMaxIdxBytes));
  // Grown by what actually arrives, a chunk at a time: a header that claims more than the file
  // holds costs only what the file holds (a gzip member's size is known only after reading it).
  int64_t got = 0;
  constexpr int64_t kChunk = int64_t{1} << 20;
  while (got < total) {
    const int64_t want = std::min(kChunk, total - got);
    out.data.resize(static_cast<size_t>(got + want));
    const int64_t n = f.read(out.data.data() + got, want);
    got += n;
    if (n < want) break;
  }
  out.data.resize(static_cast<size_t>(got));
  if (got < total)
    throw_data(path, "truncated IDX data: expected " + std::to_string(total) + " bytes of data, got " +
                         std::to_string(got) + (f.truncated() ? " (gzip stream ends early)" : ""));
  if (out.dims[0] == full_items) {
    unsigned char extra;
    if (f.read(&extra, 1) != 0)
      throw_data(path, "expected exactly " + std::to_string(total) +
                           " bytes of data after the header, found trailing bytes");
  }
  return out;
}

ImageDataset load_fashion_mnist(const std::string& dir, const std::string& split, int64_t limit) {
  namespace fs = std::filesystem;
  std::string prefix;
  if (split == "train")
    prefix = "train";
  else if (split == "test")
    prefix = "t10k";
  else
    throw UsageError("load_fashion_mnist: split must be \"train\" or \"test\", got \"" + split + "\"");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw DataError(dir + ": Fashion-MNIST directory not found (expected a directory holding " +
                    prefix + "-images-idx3-ubyte.gz; Debian package dataset-fashion-mnist installs " +
                    kFashionMnistDir + ")");
  auto find = [&](const std::string& stem) {
    const fs::path base = fs::path(dir) / stem;
    for (const char* suffix : {".gz", ""}) {
      const fs::path p = base.string() + suffix;
      if (fs::exists(p, ec)) return p.string();
    }
    throw DataError(base.string() + ".gz: no such file (nor " + base.string() + ")");
  };
  const std::string images_path = find(prefix + "-images-idx3-ubyte");
  const std::string labels_path = find(prefix + "-labels-idx1-ubyte");

  // Check the full counts from the headers first, so a mismatch is caught even with a limit.
  const std::vector<int64_t> image_dims = read_idx_dims(images_path);
  const std::vector<int64_t> label_dims = read_idx_dims(labels_path);
  if (image_dims.size() != 3)
    throw_data(images_path, "expected a 3-d IDX array (n, rows, cols), got " +
                                std::to_string(image_dims.size()) + " dimensions");
  if (label_dims.size() != 1)
    throw_data(labels_path, "expected a 1-d IDX array of labels, got " +
                                std::to_string(label_dims.size()) + " dimensions");
  if (image_dims[0] != label_dims[0])
    throw DataError(images_path + " has " + std::to_string(image_dims[0]) + " images but " +
                    labels_path + " has " + std::to_string(label_dims[0]) +
                    " labels: expected equal counts");
  const IdxArray images = read_idx(images_path, limit);
  const IdxArray labels = read_idx(labels_path, limit);

  ImageDataset ds;
  ds.n = images.dims[0];
  ds.rows = images.dims[1];
  ds.cols = images.dims[2];
  ds.pixels.resize(images.data.size());
  for (size_t i = 0; i < images.data.size(); ++i)
    ds.pixels[i] = static_cast<float>(images.data[i]) / 255.0f;
  ds.labels.resize(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kNumClasses)
      throw_data(labels_path, "label " + std::to_string(labels.data[i]) + " at index " +
                                  std::to_string(i) + ": expected a class id in [0, 10)");
    ds.labels[i] = labels.data[i];
  }
  spdlog::info("fashion-mnist {}: {} images of {}x{} from {}", split, ds.n, ds.rows, ds.cols, dir);
  return ds;
}

SequenceDataset<float> image_rows(const std::string& name, const ImageDataset& d, int64_t begin, int64_t end) {
  if (begin < 0 || end > d.n || begin > end)
    throw UsageError(name + ": images [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " + std::to_string(d.n));
  SequenceDataset<float> out(name, d.cols);
  const int64_t per = d.rows * d.cols;
  for (int64_t i = begin; i < end; ++i)
    out.add_dense(std::vector<float>(d.pixels.begin() + i * per, d.pixels.begin() + (i + 1) * per), d.cols,
                  d.labels[static_cast<size_t>(i)]);
  out.require_nonempty();
  return out;
}

}  // namespace reel
