#pragma once
/// \file
/// An in-memory dataset of variable-length sequences and the one collate step that turns any
/// subset of it into a SequenceBatch (data/sequence_batch.h).
///
/// \code
///   SequenceDataset<float> train("train");
///   train.add_ids(vocab.ids(words), tags);       // a tagged sentence (one target per step)
///   train.add_dense(pixels, 28, label);          // or: 28 steps x 28 features, one target
///   SequenceBatch<float> b = collate(train, {0, 5, 9});
/// \endcode
#include <cstdint>
#include <string>
#include <vector>

#include "data/sequence_batch.h"

namespace reel {

/// Variable-length sequences with their targets, in memory: either token ids or dense features
/// (all sequences the same kind and width), each with per-step tags and/or a per-sequence label.
template <class T>
class SequenceDataset {
 public:
  /// An empty dataset; name appears in error messages. features: the dense width (0: token ids, or
  /// set by the first add_dense).
  explicit SequenceDataset(std::string name = "data", int64_t features = 0) : name_(std::move(name)), features_(features) {}

  /// A sequence of token ids; targets: one per step (tags) and/or one per sequence (label >= 0).
  /// Throws UsageError in a dataset of dense features, or if the targets do not fit.
  void add_ids(std::vector<int64_t> ids, std::vector<int64_t> tags = {}, int64_t label = -1);
  /// A sequence of values.size() / features steps of dense features. Throws UsageError if
  /// features differs from the dataset's (or it holds token ids), ShapeError if values.size() is
  /// not a multiple of features.
  void add_dense(std::vector<T> values, int64_t features, int64_t label = -1, std::vector<int64_t> tags = {});

  const std::string& name() const { return name_; }  ///< the name given at construction
  int64_t size() const { return static_cast<int64_t>(lengths_.size()); }  ///< number of sequences
  int64_t features() const { return features_; }     ///< 0: token ids
  /// Steps of sequence i (unchecked)
  int64_t length(int64_t i) const { return lengths_[static_cast<size_t>(i)]; }
  const std::vector<int64_t>& lengths() const { return lengths_; }  ///< every sequence's length, in order
  int64_t tokens() const;  ///< sum of lengths
  /// Sequence i's token ids (token-id datasets)
  const std::vector<int64_t>& ids(int64_t i) const { return ids_[static_cast<size_t>(i)]; }
  /// Sequence i's features, (length, features) row-major (dense datasets)
  const std::vector<T>& values(int64_t i) const { return values_[static_cast<size_t>(i)]; }
  /// Sequence i's per-step targets (if has_tags())
  const std::vector<int64_t>& tags(int64_t i) const { return tags_[static_cast<size_t>(i)]; }
  /// Sequence i's target (if has_labels())
  int64_t label(int64_t i) const { return labels_[static_cast<size_t>(i)]; }
  bool has_labels() const { return has_labels_; }  ///< whether sequences carry a label each
  bool has_tags() const { return has_tags_; }  ///< whether sequences carry per-step tags

  /// Throws UsageError naming the dataset if it holds no sequence ("the dev split is empty").
  void require_nonempty() const;

 private:
  void add_targets(std::vector<int64_t> tags, int64_t label, int64_t len);
  std::string name_;
  int64_t features_;
  std::vector<int64_t> lengths_, labels_;
  std::vector<std::vector<int64_t>> ids_, tags_;
  std::vector<std::vector<T>> values_;
  bool has_labels_ = false, has_tags_ = false;
};

/// The sequences idx of d as one padded batch with lengths, mask, targets and indices (ids padded
/// with pad_id, values and tags with 0). Throws UsageError on an empty idx or an index out of range.
template <class T>
SequenceBatch<T> collate(const SequenceDataset<T>& d, const std::vector<int64_t>& idx, int64_t pad_id = 0);

/// Convenience: a batch straight from lists (no targets), as pad_sequence(batch_first=True) would:
/// dense sequences of `features` values a step, padded with padding_value.
template <class T>
SequenceBatch<T> collate_dense(const std::vector<std::vector<T>>& seqs, int64_t features, T padding_value = T(0));
/// The same for token-id sequences, padded with pad_id.
template <class T = float>
SequenceBatch<T> collate_ids(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id = 0);

}  // namespace reel
