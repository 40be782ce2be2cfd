#pragma once
/// \file
/// Checkpointing schedules for the stepwise RNN, as plans a CheckpointedBPTT executes.
///
/// The sequence is cut into chunks (bounds). A chunk is the unit of recording: its steps are
/// re-recorded on the tape from the state entering it and reversed at once. Reversing chunks
/// [i, j) with s free snapshot slots (Griewank & Walther's binomial checkpointing, "Revolve"):
/// \code{.unparsed}
///   one chunk:  record it, backward;
///   otherwise:  advance (no recording) from the state at i to chunk i+m, store that state,
///               reverse [i+m, j) with s-1 slots, drop the state, reverse [i, i+m) with s slots;
///   no slot:    for each chunk from the last, advance to it from the state at i and reverse it.
/// \endcode
/// m is chosen to minimise the advanced steps. Uniform segments are the case s = chunks-1 (each
/// chunk advanced once, in order, the last chunk never); full BPTT is one chunk.
///
/// Every step is recorded exactly once; "recomputed" steps are the advances.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/memory/cost_model.h"

namespace reel::memory {

/// One instruction of a Plan, run in order by CheckpointedBPTT.
struct Action {
  /// Advance: run steps without recording; Snapshot: store the state; Drop: free a stored
  /// state; Reverse: record steps and run their backward.
  enum Kind : uint8_t { Advance, Snapshot, Drop, Reverse };
  Kind kind = Advance;  ///< what to do
  /// Advance, Reverse: steps [begin, end). Snapshot, Drop: the state entering step begin.
  ///@{
  int64_t begin = 0, end = 0;
  ///@}
};

/// Full BPTT (one chunk), uniform segments, or binomial checkpointing.
enum class PlanKind { Full, Uniform, Binomial };
const char* plan_kind_name(PlanKind k);  ///< "full", "uniform" or "binomial"

/// A checkpointing schedule: the chunks, the slots and the actions that reverse them, with its
/// simulated costs. Made by plan_uniform, plan_binomial, plan_chunks or plan_for_budget.
struct Plan {
  PlanKind kind = PlanKind::Uniform;  ///< which family it belongs to
  std::vector<int64_t> bounds;  ///< 0 = bounds[0] < ... < bounds[n] = T
  int64_t slots = 0;            ///< snapshot slots besides h0
  std::vector<Action> actions;  ///< what CheckpointedBPTT runs, in order
  // From simulating the actions against the memory model (every plan_* function does it):
  int64_t snapshots = 0;          ///< most states stored at once, h0 not counted
  int64_t recomputed_steps = 0;   ///< steps advanced without recording
  int64_t recomputed_rows = 0;    ///< the same weighted by each step's rows (the real cost of a packed batch)
  size_t peak_bytes = 0;          ///< tapes (values + gradients) + snapshots + host buffers
  size_t tape_peak_bytes = 0;     ///< the largest tape alone
  size_t snapshot_peak_bytes = 0;  ///< the most stored-state bytes at once

  int64_t steps() const { return bounds.empty() ? 0 : bounds.back(); }  ///< T
  /// Number of chunks
  int64_t chunks() const { return bounds.empty() ? 0 : static_cast<int64_t>(bounds.size()) - 1; }
  int64_t longest_chunk() const;  ///< steps of the longest chunk
  std::string describe() const;  ///< one line: kind, chunks, slots, snapshots, recomputed steps, peak
};

/// ⌈√T⌉
int64_t default_segment(int64_t steps);

/// Uniform segments of k steps (k <= 0: ⌈√T⌉), cut from the end so the last segment is full
/// length; every segment boundary is stored. k >= T: full BPTT.
Plan plan_uniform(const MemoryModel& m, int64_t k = 0);
/// Binomial checkpointing with `slots` snapshot slots over chunks of `chunk` steps (1: Revolve).
Plan plan_binomial(const MemoryModel& m, int64_t slots, int64_t chunk = 1);
/// Any chunking and slot count.
Plan plan_chunks(const MemoryModel& m, std::vector<int64_t> bounds, int64_t slots);
/// The plan with the fewest recomputed rows whose estimated peak fits budget_bytes, searching
/// chunk lengths (chunks cut by real per-step bytes, from the end) and slot counts. Throws
/// UsageError naming the smallest peak it could reach if nothing fits.
Plan plan_for_budget(const MemoryModel& m, size_t budget_bytes);

/// Fills a plan's statistics by walking its actions against the model. The peak is exact for the
/// tape (values + gradients, arena rounding) when the model's LossCost matches the loss.
void simulate(const MemoryModel& m, Plan& plan);

/// Griewank & Walther: the fewest chunk advances that reverse n chunks with `slots` snapshot slots
/// besides the stored start: r·n − C(slots+1+r, slots+2), r the least with C(slots+1+r, r) >= n.
int64_t binomial_advances(int64_t n, int64_t slots);

}  // namespace reel::memory
