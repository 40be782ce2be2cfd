#include "data/batching.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "framework/error.h"

namespace reel {

int64_t PackInfo::total() const {
  return std::accumulate(batch_sizes.begin(), batch_sizes.end(), int64_t{0});
}

PackInfo make_pack_info(const std::vector<int64_t>& lengths) {
  if (lengths.empty()) throw UsageError("make_pack_info: expected at least one sequence");
  for (size_t b = 0; b < lengths.size(); ++b)
    if (lengths[b] < 1)
      throw UsageError("make_pack_info: sequence " + std::to_string(b) + " has length " +
                       std::to_string(lengths[b]) + ", expected >= 1 (packing needs non-empty sequences)");
  PackInfo info;
  const size_t n = lengths.size();
  info.sorted_indices.resize(n);
  std::iota(info.sorted_indices.begin(), info.sorted_indices.end(), int64_t{0});
  std::stable_sort(info.sorted_indices.begin(), info.sorted_indices.end(),
                   [&](int64_t a, int64_t b) { return lengths[static_cast<size_t>(a)] > lengths[static_cast<size_t>(b)]; });
  info.unsorted_indices.resize(n);
  info.lengths_sorted.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<size_t>(info.sorted_indices[i]);
    info.unsorted_indices[b] = static_cast<int64_t>(i);
    info.lengths_sorted[i] = lengths[b];
  }
  info.batch_sizes.assign(static_cast<size_t>(info.lengths_sorted[0]), 0);
  for (int64_t len : info.lengths_sorted)
    for (int64_t t = 0; t < len; ++t) ++info.batch_sizes[static_cast<size_t>(t)];
  return info;
}

std::vector<int64_t> packed_step_offsets(const PackInfo& info) {
  std::vector<int64_t> off(info.batch_sizes.size() + 1, 0);
  std::partial_sum(info.batch_sizes.begin(), info.batch_sizes.end(), off.begin() + 1);
  off.pop_back();
  return off;
}

std::vector<std::vector<int64_t>> make_batches(const std::vector<int64_t>& lengths,
                                               int64_t batch_size, Rng& rng, bool shuffle,
                                               bool bucket_by_length) {
  if (batch_size < 1) throw UsageError("make_batches: batch_size must be >= 1, got " + std::to_string(batch_size));
  for (size_t i = 0; i < lengths.size(); ++i)
    if (lengths[i] < 0)
      throw UsageError("make_batches: length " + std::to_string(lengths[i]) + " of sequence " +
                       std::to_string(i) + ", expected >= 0");
  const int64_t n = static_cast<int64_t>(lengths.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (shuffle) rng.shuffle(order);
  if (bucket_by_length) {
    const int64_t chunk = batch_size * kBucketChunkBatches;
    for (int64_t start = 0; start < n; start += chunk) {
      const auto first = order.begin() + start;
      const auto last = order.begin() + std::min(n, start + chunk);
      std::stable_sort(first, last, [&](int64_t a, int64_t b) {
        return lengths[static_cast<size_t>(a)] > lengths[static_cast<size_t>(b)];
      });
    }
  }
  std::vector<std::vector<int64_t>> batches;
  batches.reserve(static_cast<size_t>((n + batch_size - 1) / batch_size));
  for (int64_t start = 0; start < n; start += batch_size)
    batches.emplace_back(order.begin() + start, order.begin() + std::min(n, start + batch_size));
  if (shuffle && bucket_by_length) rng.shuffle(batches);
  return batches;
}

}  // namespace reel
