#pragma once
/// \file
/// Turning variable-length sequences into batches (the batch itself, padding and packing are
/// data/sequence_batch.h and data/dataset.h):
///  (b) the packed order, exactly PyTorch's pack_padded_sequence(..., enforce_sorted=False);
///  (c) seeded, optionally length-bucketed, batch making.
#include <cstdint>
#include <vector>

#include "framework/rng.h"

namespace reel {

// ---- (b) packing
//
/// The packed order of a batch of sequences.
///
/// Order rule: sequences are sorted by length, longest first, with a *stable* sort: sequences of
/// equal length keep their original relative order. This is torch.sort(lengths, descending=True,
/// stable=True). PyTorch's pack_padded_sequence calls torch.sort without stable=True, whose order
/// among ties is not guaranteed (the CPU kernel happens to be stable); with distinct lengths the two
/// always agree. Packed data is time-major: the rows of step 0 for every sequence in sorted order,
/// then the rows of step 1 for the sequences still running, and so on.
struct PackInfo {
  std::vector<int64_t> sorted_indices;    ///< original index of the i-th longest sequence
  std::vector<int64_t> unsorted_indices;  ///< inverse: sorted position of original sequence b
  std::vector<int64_t> batch_sizes;       ///< batch_sizes[t]: how many sequences are longer than t
  std::vector<int64_t> lengths_sorted;    ///< lengths[sorted_indices[i]], non-increasing
  int64_t total() const;                  ///< sum of lengths = rows of the packed data
  /// The longest length: steps of the packed data
  int64_t max_len() const { return static_cast<int64_t>(batch_sizes.size()); }
};

/// Throws UsageError if lengths is empty or any length is < 1 (PyTorch refuses length 0 too).
PackInfo make_pack_info(const std::vector<int64_t>& lengths);

/// Offset of step t's first row in the packed data (sum of batch_sizes[0..t)).
std::vector<int64_t> packed_step_offsets(const PackInfo& info);

// ---- (c) batch making

/// Batches per length-sorted chunk when bucketing (make_batches)
constexpr int64_t kBucketChunkBatches = 50;
/// Splits the indices 0..n-1 (n = lengths.size()) into batches of batch_size (the last one of a
/// run may be smaller). Every index appears in exactly one batch.
///  * no bucketing: indices in order (shuffled first if shuffle), cut into consecutive batches;
///  * bucketing: indices (shuffled if shuffle) are split into chunks of kBucketChunkBatches
///    batches, each chunk is stably sorted by length, longest first, and cut into batches, so a
///    batch holds sequences of similar length and needs little padding; then, if shuffle, the
///    order of the batches is shuffled.
/// Deterministic given rng's state; rng advances only if shuffle. Throws UsageError if
/// batch_size < 1 or a length is negative.
std::vector<std::vector<int64_t>> make_batches(const std::vector<int64_t>& lengths,
                                               int64_t batch_size, Rng& rng, bool shuffle,
                                               bool bucket_by_length);

}  // namespace reel
