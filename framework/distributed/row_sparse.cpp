#include "framework/distributed/row_sparse.h"

#include <algorithm>
#include <string>

namespace reel::distributed {

template <class T>
RowSparseReducer<T>::RowSparseReducer(Parameter<T>& p) : p_(p) {
  if (p.shape.rank != 2)
    throw DistributedError("row-sparse reduction of '" + p.name + "': needs a (rows, cols) parameter, got " + p.shape.str());
  rows_ = p.shape[0];
  cols_ = p.shape[1];
}

template <class T>
void RowSparseReducer<T>::reduce(Communicator& comm, T scale, bool deterministic) {
  T* g = p_.grad.data();
  ids_.clear();
  values_.clear();
  for (int64_t r = 0; r < rows_; ++r) {
    const T* row = g + r * cols_;
    if (std::any_of(row, row + cols_, [](T v) { return v != T(0); })) {
      ids_.push_back(r);
      for (int64_t c = 0; c < cols_; ++c) values_.push_back(row[c] * scale);
    }
  }
  const int size = comm.size();
  counts_.assign(static_cast<size_t>(size), 0);
  int64_t mine = static_cast<int64_t>(ids_.size());
  comm.allgather(&mine, sizeof mine, counts_.data());
  int64_t total = 0;
  for (int64_t c : counts_) total += c;
  const int64_t dense_bytes = rows_ * cols_ * static_cast<int64_t>(sizeof(T));
  const int64_t sparse_bytes = total * (cols_ * static_cast<int64_t>(sizeof(T)) + static_cast<int64_t>(sizeof(int64_t)));
  if (sparse_bytes >= dense_bytes) {  // the same decision on every rank: counts_ is the same
    ++dense_steps_;
    const int64_t n = rows_ * cols_;
    for (int64_t i = 0; i < n; ++i) g[i] *= scale;
    if (!deterministic) {
      comm.allreduce_sum(g, n);
      return;
    }
    all_values_.resize(static_cast<size_t>(n) * static_cast<size_t>(size));
    comm.allgather(g, n * static_cast<int64_t>(sizeof(T)), all_values_.data());
    std::copy(all_values_.begin(), all_values_.begin() + n, g);
    for (int r = 1; r < size; ++r) {
      const T* src = all_values_.data() + static_cast<size_t>(r) * static_cast<size_t>(n);
      for (int64_t i = 0; i < n; ++i) g[i] += src[i];
    }
    return;
  }
  ++sparse_steps_;
  bytes_.resize(static_cast<size_t>(size));
  for (int r = 0; r < size; ++r) bytes_[static_cast<size_t>(r)] = counts_[static_cast<size_t>(r)] * static_cast<int64_t>(sizeof(int64_t));
  all_ids_.resize(static_cast<size_t>(total));
  comm.allgatherv(ids_.data(), all_ids_.data(), bytes_);
  for (int r = 0; r < size; ++r) bytes_[static_cast<size_t>(r)] = counts_[static_cast<size_t>(r)] * cols_ * static_cast<int64_t>(sizeof(T));
  all_values_.resize(static_cast<size_t>(total * cols_));
  comm.allgatherv(values_.data(), all_values_.data(), bytes_);
  std::fill(p_.grad.begin(), p_.grad.end(), T(0));
  for (int64_t k = 0; k < total; ++k) {  // rank order: rank 0's rows first
    const int64_t id = all_ids_[static_cast<size_t>(k)];
    if (id < 0 || id >= rows_)
      throw DistributedError("row-sparse reduction of '" + p_.name + "': row " + std::to_string(id) + " out of range");
    T* dst = g + id * cols_;
    const T* src = all_values_.data() + k * cols_;
    for (int64_t c = 0; c < cols_; ++c) dst[c] += src[c];
  }
}

template class RowSparseReducer<float>;
template class RowSparseReducer<double>;

}  // namespace reel::distributed
