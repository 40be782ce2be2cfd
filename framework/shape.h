#pragma once
/// \file
/// Shapes of reel's values. One convention everywhere: row-major, and sequence batches are
/// (batch, time, features). A rank-3 value passed to matmul is read as (batch*time, features).
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace reel {

/// Dimensions of a value, rank 0 (a scalar) to 4, row-major.
struct Shape {
  static constexpr int kMaxRank = 4;  ///< the highest rank
  int rank = 0;  ///< number of dimensions (0: a scalar)
  std::array<int64_t, kMaxRank> dims{};  ///< the dimensions, outermost first; those past rank are 0

  Shape() = default;
  /// Shape{batch, time, features}; UsageError above rank 4 or on a negative dimension
  Shape(std::initializer_list<int64_t> d);

  int64_t operator[](int i) const { return dims[static_cast<size_t>(i)]; }  ///< dimension i (unchecked)
  int64_t size() const;                 ///< number of elements (1 for a scalar)
  /// The last dimension (1 for a scalar)
  int64_t last() const { return rank ? dims[static_cast<size_t>(rank - 1)] : 1; }
  int64_t rows() const { return size() / last(); }  ///< product of all but the last dim
  std::string str() const;              ///< "(32, 28, 128)"
  bool operator==(const Shape& o) const;  ///< same rank and dimensions
  bool operator!=(const Shape& o) const { return !(*this == o); }  ///< not ==
};

}  // namespace reel
