#pragma once
/// \file
/// Memory accounting: what a tape keeps alive, by op kind, and the process's resident memory.
///
/// After a backward, every value and gradient of the iteration is still in the arenas (they are
/// reclaimed by clear()), so memory_breakdown(tape) then is the iteration's peak, split by the
/// kind of op that made each node. Values not owned by a node (an op's saved scratch, such as
/// cross-entropy's softmax) are reported as scratch.
#include <array>
#include <cstddef>
#include <string>

#include "framework/tape.h"

namespace reel::memory {

/// What the nodes and records of one OpKind hold on a tape.
struct KindBytes {
  /// Nodes made by this kind, and records of it.
  ///@{
  size_t nodes = 0, records = 0;
  ///@}
  /// Arena bytes (64-byte rounded) of the values and of the gradients of the nodes made by this kind.
  ///@{
  size_t values = 0, grads = 0;
  ///@}
  size_t saved = 0;              ///< Record::saved_bytes: what the records declare they keep for backward
};

/// A tape's memory by op kind (memory_breakdown).
struct MemoryBreakdown {
  std::array<KindBytes, kNumOpKinds> by_kind{};  ///< indexed by OpKind
  size_t scratch_values = 0;  ///< value bytes no node owns
  TapeStats stats;  ///< the tape's own totals
  std::string table() const;  ///< one line per kind that holds anything, then the totals
  std::string json() const;   ///< {"matmul":{"values":..,"grads":..,"saved":..},...,"scratch":..}
};

/// What tape holds now, split by the kind of op that made each node (see the file description).
template <class T>
MemoryBreakdown memory_breakdown(const Tape<T>& tape);

/// /proc/self/status: VmHWM (peak resident set) and VmRSS, in bytes; 0 where unavailable.
///@{
size_t peak_rss_bytes();
size_t current_rss_bytes();
///@}
/// Resets VmHWM to the current RSS (Linux >= 4.0: "5" to /proc/self/clear_refs); false if refused.
bool reset_peak_rss();

}  // namespace reel::memory
