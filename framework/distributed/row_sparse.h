#pragma once
/// \file
/// Row-sparse gradient reduction, for embeddings: a batch touches a few hundred of a vocabulary's
/// rows, so instead of allreducing the dense (vocabulary x dim) gradient every step, each rank
/// sends only the rows its gradient touches (allgather of row ids and rows), and every rank sums
/// them into the dense gradient in rank order (bitwise the same on every rank, and deterministic).
/// When the gathered rows would outweigh the dense matrix (many ranks, small vocabulary), it falls
/// back to the dense reduction; every rank takes the same decision from the gathered counts.
#include <cstdint>
#include <vector>

#include "framework/distributed/communicator.h"
#include "framework/parameter.h"

namespace reel::distributed {

/// Sums one rank-2 parameter's gradient over ranks as its touched rows (see the file description).
template <class T>
class RowSparseReducer {
 public:
  explicit RowSparseReducer(Parameter<T>& p);  ///< p: rank 2 (rows x cols)
  /// p.grad becomes the sum over ranks of (scale x each rank's gradient). deterministic: the dense
  /// fallback gathers and sums in rank order too.
  void reduce(Communicator& comm, T scale, bool deterministic);
  Parameter<T>& parameter() { return p_; }  ///< the parameter it reduces
  int64_t sparse_steps() const { return sparse_steps_; }  ///< reductions done as rows
  int64_t dense_steps() const { return dense_steps_; }  ///< reductions that fell back to the dense allreduce

 private:
  Parameter<T>& p_;
  int64_t rows_, cols_;
  std::vector<int64_t> ids_, all_ids_, counts_, bytes_;
  std::vector<T> values_, all_values_;
  int64_t sparse_steps_ = 0, dense_steps_ = 0;
};

}  // namespace reel::distributed
