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

struct KindBytes {
  size_t nodes = 0, records = 0;
  size_t values = 0, grads = 0;  ///< arena bytes (64-byte rounded) of the nodes made by this kind
  size_t saved = 0;              ///< Record::saved_bytes: what the records declare they keep for backward
};

struct MemoryBreakdown {
  std::array<KindBytes, kNumOpKinds> by_kind{};
  size_t scratch_values = 0;  ///< value bytes no node owns
  TapeStats stats;
  std::string table() const;  ///< one line per kind that holds anything, then the totals
  std::string json() const;   ///< {"matmul":{"values":..,"grads":..,"saved":..},...,"scratch":..}
};

template <class T>
MemoryBreakdown memory_breakdown(const Tape<T>& tape);

/// /proc/self/status: VmHWM (peak resident set) and VmRSS, in bytes; 0 where unavailable.
size_t peak_rss_bytes();
size_t current_rss_bytes();
/// Resets VmHWM to the current RSS (Linux >= 4.0: "5" to /proc/self/clear_refs); false if refused.
bool reset_peak_rss();

}  // namespace reel::memory
