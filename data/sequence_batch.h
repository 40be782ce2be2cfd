#pragma once
/// \file
/// The one batch of variable-length sequences that every model, loss and memory strategy consumes.
///
/// Padded storage, batch-first as PyTorch's batch_first=True: dense features (batch, max_len,
/// features) or token ids (batch, max_len), each sequence's length, its 1/0 mask, and its targets,
/// either one per sequence (labels) or one per step (tags, padded like the ids). The packed layout
/// (PyTorch's PackedSequence order: sorted by length, time-major) is computed once per batch, by
/// packed(), and shared by every consumer. collate() (data/dataset.h) makes a batch from a
/// dataset; code may also fill the fields by hand.
#include <cstdint>
#include <memory>
#include <vector>

#include "data/batching.h"

namespace reel {

/// The packed row order of a batch: info (PyTorch's sorted/unsorted indices, batch sizes) and, for
/// every packed row k, its position rows[k] = b * max_len + t in the padded batch.
struct PackedLayout {
  PackInfo info;  ///< sorted and unsorted indices, batch sizes
  std::vector<int64_t> rows;  ///< for packed row k, its position b * max_len + t in the padded batch
};
/// The one place the packed order is computed. Throws UsageError on lengths outside [1, max_len].
PackedLayout packed_layout(const std::vector<int64_t>& lengths, int64_t max_len);

/// A padded batch of variable-length sequences with their targets and its packed layout (see the
/// file description).
template <class T>
struct SequenceBatch {
  /// Sequences in the batch, and the longest one's steps (the padded time axis).
  ///@{
  int64_t batch = 0, max_len = 0;
  ///@}
  int64_t features = 0;            ///< > 0: dense input in values; 0: token ids in ids
  std::vector<T> values;           ///< (batch, max_len, features), 0 past each length
  std::vector<int64_t> ids;        ///< (batch, max_len), the pad id past each length
  std::vector<int64_t> lengths;    ///< (batch), each in [1, max_len]
  std::vector<T> mask;             ///< (batch, max_len): 1 inside a sequence, 0 in its padding (collate fills it)
  std::vector<int64_t> labels;     ///< one target per sequence (batch), or empty
  std::vector<int64_t> tags;       ///< one target per step (batch, max_len), 0 past each length, or empty
  std::vector<int64_t> index;      ///< each row's index in its dataset, or empty

  /// Throws UsageError/ShapeError naming who and the mismatch.
  void validate(const char* who) const;
  int64_t tokens() const;  ///< sum of lengths: real steps
  /// The packed layout, computed on first use and kept while lengths and max_len stay the same.
  const PackedLayout& packed() const;

 private:
  mutable std::shared_ptr<const PackedLayout> packed_;
  mutable std::vector<int64_t> packed_lengths_;
  mutable int64_t packed_max_len_ = 0;
};

/// The batch's dense values in packed order: (total, features).
template <class T>
std::vector<T> pack(const SequenceBatch<T>& b);
/// The batch's token ids in packed order: (total) ids.
template <class T>
std::vector<int64_t> pack_ids(const SequenceBatch<T>& b);
/// Packed rows (total, width) back to (batch, max_len, width) in the batch's original order, padding
/// as padding_value: pad_packed_sequence(batch_first=True). Throws UsageError on a size mismatch.
template <class T>
std::vector<T> unpack(const std::vector<T>& packed, int64_t width, const SequenceBatch<T>& b, T padding_value = T(0));

}  // namespace reel
