#include "data/batching.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "framework/error.h"

namespace reel {
namespace {

void check_pack_lengths(const char* op, const std::vector<int64_t>& lengths, const PackInfo& info) {
  if (lengths.size() != info.sorted_indices.size())
    throw UsageError(std::string(op) + ": batch has " + std::to_string(lengths.size()) +
                     " sequences, pack info " + std::to_string(info.sorted_indices.size()));
  for (size_t i = 0; i < info.sorted_indices.size(); ++i) {
    const int64_t b = info.sorted_indices[i];
    if (lengths[static_cast<size_t>(b)] != info.lengths_sorted[i])
      throw UsageError(std::string(op) + ": sequence " + std::to_string(b) + " has length " +
                       std::to_string(lengths[static_cast<size_t>(b)]) + ", pack info expects " +
                       std::to_string(info.lengths_sorted[i]));
  }
}

// Copies row (b, t) of a (batch, max_len, width) block to packed row r, for every packed row.
template <class T>
std::vector<T> pack_rows(const std::vector<T>& data, int64_t max_len, int64_t width,
                         const PackInfo& info) {
  std::vector<T> out(static_cast<size_t>(info.total() * width));
  int64_t r = 0;
  for (int64_t t = 0; t < info.max_len(); ++t)
    for (int64_t i = 0; i < info.batch_sizes[static_cast<size_t>(t)]; ++i, ++r) {
      const int64_t b = info.sorted_indices[static_cast<size_t>(i)];
      const auto src = data.begin() + (b * max_len + t) * width;
      std::copy(src, src + width, out.begin() + r * width);
    }
  return out;
}

}  // namespace

PaddedBatch pad_sequences(const std::vector<std::vector<float>>& seqs, int64_t features,
                          float padding_value) {
  if (features < 1) throw UsageError("pad_sequences: features must be >= 1, got " + std::to_string(features));
  PaddedBatch out;
  out.batch = static_cast<int64_t>(seqs.size());
  out.features = features;
  for (size_t b = 0; b < seqs.size(); ++b) {
    const int64_t n = static_cast<int64_t>(seqs[b].size());
    if (n % features != 0)
      throw UsageError("pad_sequences: sequence " + std::to_string(b) + " has " + std::to_string(n) +
                       " floats, expected a multiple of features = " + std::to_string(features));
    out.lengths.push_back(n / features);
    out.max_len = std::max(out.max_len, n / features);
  }
  out.data.assign(static_cast<size_t>(out.batch * out.max_len * features), padding_value);
  out.mask.assign(static_cast<size_t>(out.batch * out.max_len), 0.0f);
  for (size_t b = 0; b < seqs.size(); ++b) {
    const int64_t base = static_cast<int64_t>(b) * out.max_len;
    std::copy(seqs[b].begin(), seqs[b].end(), out.data.begin() + base * features);
    std::fill_n(out.mask.begin() + base, out.lengths[b], 1.0f);
  }
  return out;
}

PaddedIds pad_ids(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id) {
  PaddedIds out;
  out.batch = static_cast<int64_t>(seqs.size());
  for (const auto& s : seqs) {
    out.lengths.push_back(static_cast<int64_t>(s.size()));
    out.max_len = std::max(out.max_len, static_cast<int64_t>(s.size()));
  }
  out.ids.assign(static_cast<size_t>(out.batch * out.max_len), pad_id);
  out.mask.assign(static_cast<size_t>(out.batch * out.max_len), 0.0f);
  for (size_t b = 0; b < seqs.size(); ++b) {
    const int64_t base = static_cast<int64_t>(b) * out.max_len;
    std::copy(seqs[b].begin(), seqs[b].end(), out.ids.begin() + base);
    std::fill_n(out.mask.begin() + base, out.lengths[b], 1.0f);
  }
  return out;
}

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

std::vector<float> pack_padded(const PaddedBatch& b, const PackInfo& info) {
  check_pack_lengths("pack_padded", b.lengths, info);
  return pack_rows(b.data, b.max_len, b.features, info);
}

std::vector<int64_t> pack_padded_ids(const PaddedIds& b, const PackInfo& info) {
  check_pack_lengths("pack_padded_ids", b.lengths, info);
  return pack_rows(b.ids, b.max_len, 1, info);
}

PaddedBatch pad_packed(const std::vector<float>& packed, int64_t features, const PackInfo& info,
                       float padding_value) {
  if (features < 1) throw UsageError("pad_packed: features must be >= 1, got " + std::to_string(features));
  const int64_t total = info.total();
  if (static_cast<int64_t>(packed.size()) != total * features)
    throw UsageError("pad_packed: expected " + std::to_string(total) + " x " + std::to_string(features) +
                     " = " + std::to_string(total * features) + " floats, got " + std::to_string(packed.size()));
  PaddedBatch out;
  out.batch = static_cast<int64_t>(info.sorted_indices.size());
  out.max_len = info.max_len();
  out.features = features;
  out.data.assign(static_cast<size_t>(out.batch * out.max_len * features), padding_value);
  out.mask.assign(static_cast<size_t>(out.batch * out.max_len), 0.0f);
  out.lengths.resize(static_cast<size_t>(out.batch));
  for (size_t i = 0; i < info.sorted_indices.size(); ++i)
    out.lengths[static_cast<size_t>(info.sorted_indices[i])] = info.lengths_sorted[i];
  int64_t r = 0;
  for (int64_t t = 0; t < out.max_len; ++t)
    for (int64_t i = 0; i < info.batch_sizes[static_cast<size_t>(t)]; ++i, ++r) {
      const int64_t b = info.sorted_indices[static_cast<size_t>(i)];
      const auto src = packed.begin() + r * features;
      std::copy(src, src + features, out.data.begin() + (b * out.max_len + t) * features);
      out.mask[static_cast<size_t>(b * out.max_len + t)] = 1.0f;
    }
  return out;
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
