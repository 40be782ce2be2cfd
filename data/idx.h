#pragma once
/// \file
/// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed, and the Fashion-MNIST
/// loader built on them.
///
/// IDX layout: magic bytes `0x00 0x00 <type> <ndim>`, then ndim big-endian uint32 dimensions, then
/// the elements in row-major order. Only type 0x08 (unsigned byte) is supported: it is the type of
/// every MNIST-family file.
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace reel {

/// The contents of an IDX file: its dimensions and its bytes.
struct IdxArray {
  std::vector<int64_t> dims;  ///< the dimensions, outermost first (dims[0]: items)
  std::vector<uint8_t> data;  ///< product(dims) bytes, row-major
};

/// Reads an IDX file (gzip or plain). With max_items >= 0 only the first max_items entries along
/// dimension 0 are read (dims[0] is reduced accordingly); the rest of the file is not checked.
/// Throws DataError naming the file on a missing file, bad magic, unsupported type, bad ndim,
/// size overflow, truncation ("expected N bytes of data, got M") or trailing bytes.
IdxArray read_idx(const std::string& path, int64_t max_items = -1);
/// Reads and validates only the header of an IDX file: its dimensions.
std::vector<int64_t> read_idx_dims(const std::string& path);

/// Labelled greyscale images (Fashion-MNIST: 28 x 28, 10 classes).
struct ImageDataset {
  /// Images, and each image's rows and columns of pixels.
  ///@{
  int64_t n = 0, rows = 0, cols = 0;
  ///@}
  std::vector<float> pixels;    ///< (n, rows, cols), scaled from 0..255 to [0,1]
  std::vector<int64_t> labels;  ///< (n), class ids in [0, 10)
};

/// Loads Fashion-MNIST (or MNIST) from dir: split "train" reads train-{images-idx3,labels-idx1}-ubyte,
/// split "test" reads t10k-..., each with a .gz suffix or without. limit >= 0 keeps the first
/// limit examples. Throws UsageError on an unknown split, DataError naming the directory or file if
/// it is missing, if the image and label counts differ, or if a label is outside [0, 10).
ImageDataset load_fashion_mnist(const std::string& dir, const std::string& split,
                                int64_t limit = -1);

/// Images [begin, end) as sequences read row by row: rows steps of cols features, labelled.
SequenceDataset<float> image_rows(const std::string& name, const ImageDataset& d, int64_t begin, int64_t end);

/// Where the Debian package dataset-fashion-mnist installs the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace reel
