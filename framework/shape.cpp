#include "framework/shape.h"

#include "framework/error.h"

namespace reel {

Shape::Shape(std::initializer_list<int64_t> d) {
  if (d.size() > static_cast<size_t>(kMaxRank))
    throw UsageError("Shape: rank " + std::to_string(d.size()) + " exceeds the maximum of 4");
  for (int64_t v : d) {
    if (v < 0) throw UsageError("Shape: negative dimension " + std::to_string(v));
    dims[static_cast<size_t>(rank++)] = v;
  }
}

int64_t Shape::size() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    if (__builtin_mul_overflow(n, dims[static_cast<size_t>(i)], &n))
      throw ShapeError("Shape " + str() + ": the element count overflows 64 bits");
  return n;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[static_cast<size_t>(i)]);
  }
  return s + ")";
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[static_cast<size_t>(i)] != o.dims[static_cast<size_t>(i)]) return false;
  return true;
}

void throw_shape(const std::string& op, const std::string& what, const Shape& a, const Shape& b) {
  throw ShapeError(op + ": " + what + ": " + a.str() + " vs " + b.str());
}

void check_shape(const char* op, const char* what, const Shape& want, const Shape& got) {
  if (want != got)
    throw ShapeError(std::string(op) + ": " + what + ": expected " + want.str() + ", got " +
                     got.str());
}

}  // namespace reel
