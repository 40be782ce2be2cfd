#pragma once
/// \file
/// Shapes of reel's values. One convention everywhere: row-major, and sequence batches are
/// (batch, time, features). A rank-3 value passed to matmul is read as (batch*time, features).
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace reel {

struct Shape {
  static constexpr int kMaxRank = 4;
  int rank = 0;
  std::array<int64_t, kMaxRank> dims{};

  Shape() = default;
  Shape(std::initializer_list<int64_t> d);

  int64_t operator[](int i) const { return dims[static_cast<size_t>(i)]; }
  int64_t size() const;                 ///< number of elements (1 for a scalar)
  int64_t last() const { return rank ? dims[static_cast<size_t>(rank - 1)] : 1; }
  int64_t rows() const { return size() / last(); }  ///< product of all but the last dim
  std::string str() const;              ///< "(32, 28, 128)"
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

}  // namespace reel
