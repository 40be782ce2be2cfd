#pragma once
/// \file
/// A chunked bump allocator for tape values and gradients. Pointers it hands out stay valid until
/// reset(); reset() keeps every block, so an iteration that asks for the same sizes as the previous
/// one allocates nothing from the heap. Every allocation is 64-byte aligned.
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace reel {

/// A chunked bump allocator of T elements (see the file description). Not thread-safe.
template <class T>
class Arena {
 public:
  /// An empty arena; blocks are block_elems elements, or larger for a larger request.
  explicit Arena(size_t block_elems = size_t{1} << 18) : block_elems_(block_elems) {}

  /// n elements, uninitialised.
  T* alloc(size_t n) {
    n = round_up(n == 0 ? 1 : n);
    while (current_ < blocks_.size()) {
      Block& b = blocks_[current_];
      if (b.used + n <= b.size) {
        T* p = b.data.get() + b.used;
        b.used += n;
        used_ += n;
        if (used_ > peak_) peak_ = used_;
        return p;
      }
      ++current_;
    }
    size_t size = n > block_elems_ ? n : block_elems_;
    blocks_.push_back(Block{make_block(size), size, 0});
    capacity_ += size;
    current_ = blocks_.size() - 1;
    return alloc(n);
  }

  /// Forget every allocation; keep the blocks for the next round.
  void reset() {
    for (Block& b : blocks_) b.used = 0;
    current_ = 0;
    used_ = 0;
  }
  /// Give the blocks back to the heap.
  void release() {
    blocks_.clear();
    current_ = used_ = capacity_ = 0;
  }

  /// Whether p points into one of this arena's blocks.
  bool owns(const T* p) const {
    for (const Block& b : blocks_)
      if (p >= b.data.get() && p < b.data.get() + b.size) return true;
    return false;
  }

  size_t used_bytes() const { return used_ * sizeof(T); }  ///< bytes handed out since reset()
  size_t capacity_bytes() const { return capacity_ * sizeof(T); }  ///< bytes of every block held
  /// The most bytes in use at once since reset_peak()
  size_t peak_bytes() const { return peak_ * sizeof(T); }
  void reset_peak() { peak_ = used_; }  ///< starts peak_bytes() again from the bytes in use now
  size_t blocks() const { return blocks_.size(); }  ///< blocks held

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  struct Block {
    std::unique_ptr<T[], Free> data;
    size_t size;
    size_t used;
  };
  static constexpr size_t kAlign = 64;
  static size_t round_up(size_t n) {
    constexpr size_t per = kAlign / sizeof(T) ? kAlign / sizeof(T) : 1;
    return (n + per - 1) / per * per;
  }
  static std::unique_ptr<T[], Free> make_block(size_t n) {
    void* p = std::aligned_alloc(kAlign, n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return std::unique_ptr<T[], Free>(static_cast<T*>(p));
  }

  size_t block_elems_;
  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t used_ = 0, peak_ = 0, capacity_ = 0;
};

}  // namespace reel
