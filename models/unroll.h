#pragma once
/// \file
/// Unrolling one cell over time, one direction: the loop every recurrent model shares.
///
/// \code{.unparsed}
///   dense:  Xt (steps, batch, input) time-major; every step computes every row.
///   packed: X (N, input) holds the real tokens time-major, as PyTorch packs them (the
///           batch_sizes[0] rows of step 0, then the batch_sizes[1] rows of step 1, ...; rows sorted
///           by length, longest first). Step t computes only its batch_sizes[t] rows. reverse: each
///           sequence runs from its own last token to its first (a sequence joins at its last step
///           with its initial state), so padding never enters it.
/// \endcode
///
/// The input projection of all steps is one GEMM (Cell::begin_unroll); each step is recorded by the
/// cell. The steps' states come back in time order, and `final` holds each sequence's state after
/// its own last step (dense: after step steps-1; packed: batch_sizes[0] rows in sorted order).
#include <cstdint>
#include <vector>

#include "models/cell.h"

namespace reel {

/// The states of one unroll.
template <class T>
struct Unrolled {
  std::vector<CellState<T>> states;  ///< states[t]: the state after step t (dense: batch rows; packed: batch_sizes[t])
  CellState<T> final;  ///< each sequence's state after its own last step
};

/// Unrolls cell over time-major Xt (steps, batch, input) from s0 (each part (batch, hidden)).
template <class T>
Unrolled<T> unroll_dense(Tape<T>& tape, const Cell<T>& cell, const Var<T>& Xt, const CellState<T>& s0);

/// Unrolls cell over packed rows X (N, input) with their batch_sizes, from s0 (batch_sizes[0]
/// rows, sorted order); reverse runs each sequence from its last token to its first.
template <class T>
Unrolled<T> unroll_packed(Tape<T>& tape, const Cell<T>& cell, const Var<T>& X, const std::vector<int64_t>& batch_sizes,
                          const CellState<T>& s0, bool reverse = false);

/// Throws UsageError unless batch_sizes are positive and non-increasing, and returns their sum.
int64_t check_batch_sizes(const std::vector<int64_t>& batch_sizes, const char* who);

}  // namespace reel
