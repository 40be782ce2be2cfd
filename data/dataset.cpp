#include "data/dataset.h"

#include <algorithm>

#include "framework/error.h"

namespace reel {

template <class T>
void SequenceDataset<T>::add_targets(std::vector<int64_t> tags, int64_t label, int64_t len) {
  const bool first = lengths_.empty();
  if (first) {
    has_tags_ = !tags.empty();
    has_labels_ = label >= 0;
  }
  const std::string where = name_ + " sequence " + std::to_string(lengths_.size());
  if (has_tags_ != !tags.empty() || has_labels_ != (label >= 0))
    throw UsageError(where + ": targets differ in kind from the first sequence's (tags per step: " +
                     std::to_string(has_tags_) + ", label per sequence: " + std::to_string(has_labels_) + ")");
  if (has_tags_ && static_cast<int64_t>(tags.size()) != len)
    throw ShapeError(where + ": " + std::to_string(tags.size()) + " tags for " + std::to_string(len) + " steps");
  if (len < 1) throw UsageError(where + ": empty sequence (every sequence needs at least one step)");
  lengths_.push_back(len);
  labels_.push_back(label);
  tags_.push_back(std::move(tags));
}

template <class T>
void SequenceDataset<T>::add_ids(std::vector<int64_t> ids, std::vector<int64_t> tags, int64_t label) {
  if (features_ != 0) throw UsageError(name_ + ": a token-id sequence added to a dataset of dense features");
  add_targets(std::move(tags), label, static_cast<int64_t>(ids.size()));
  ids_.push_back(std::move(ids));
}

template <class T>
void SequenceDataset<T>::add_dense(std::vector<T> values, int64_t features, int64_t label, std::vector<int64_t> tags) {
  if (features < 1) throw UsageError(name_ + ": features must be >= 1, got " + std::to_string(features));
  if (lengths_.empty() && features_ == 0) features_ = features;
  if (features != features_ || !ids_.empty())
    throw UsageError(name_ + ": a sequence of " + std::to_string(features) + " features added to a dataset of " +
                     (ids_.empty() ? std::to_string(features_) + " features" : std::string("token ids")));
  if (values.size() % static_cast<size_t>(features) != 0)
    throw ShapeError(name_ + " sequence " + std::to_string(lengths_.size()) + ": " + std::to_string(values.size()) +
                     " values are not a whole number of " + std::to_string(features) + "-feature steps");
  add_targets(std::move(tags), label, static_cast<int64_t>(values.size()) / features);
  values_.push_back(std::move(values));
}

template <class T>
int64_t SequenceDataset<T>::tokens() const {
  int64_t n = 0;
  for (int64_t len : lengths_) n += len;
  return n;
}

template <class T>
void SequenceDataset<T>::require_nonempty() const {
  if (lengths_.empty()) throw UsageError("the " + name_ + " split holds no sequence");
}

template <class T>
SequenceBatch<T> collate(const SequenceDataset<T>& d, const std::vector<int64_t>& idx, int64_t pad_id) {
  if (idx.empty()) throw UsageError("collate: no sequence selected from " + d.name());
  SequenceBatch<T> b;
  b.batch = static_cast<int64_t>(idx.size());
  b.features = d.features();
  for (int64_t i : idx) {
    if (i < 0 || i >= d.size())
      throw UsageError("collate: index " + std::to_string(i) + " outside " + d.name() + "'s " + std::to_string(d.size()) +
                       " sequences");
    b.max_len = std::max(b.max_len, d.length(i));
  }
  const int64_t cells = b.batch * b.max_len, F = b.features;
  b.mask.assign(static_cast<size_t>(cells), T(0));
  if (F > 0) b.values.assign(static_cast<size_t>(cells * F), T(0));
  else b.ids.assign(static_cast<size_t>(cells), pad_id);
  if (d.has_tags()) b.tags.assign(static_cast<size_t>(cells), 0);
  for (int64_t k = 0; k < b.batch; ++k) {
    const int64_t i = idx[static_cast<size_t>(k)], len = d.length(i), at = k * b.max_len;
    b.lengths.push_back(len);
    b.index.push_back(i);
    std::fill_n(b.mask.begin() + at, len, T(1));
    if (F > 0) std::copy(d.values(i).begin(), d.values(i).end(), b.values.begin() + at * F);
    else std::copy(d.ids(i).begin(), d.ids(i).end(), b.ids.begin() + at);
    if (d.has_tags()) std::copy(d.tags(i).begin(), d.tags(i).end(), b.tags.begin() + at);
    if (d.has_labels()) b.labels.push_back(d.label(i));
  }
  return b;
}

template <class T>
SequenceBatch<T> collate_dense(const std::vector<std::vector<T>>& seqs, int64_t features, T padding_value) {
  SequenceDataset<T> d("collate_dense", features);
  for (const auto& s : seqs) d.add_dense(s, features);
  std::vector<int64_t> idx(seqs.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  SequenceBatch<T> b = collate(d, idx);
  if (padding_value != T(0))
    for (size_t c = 0; c < b.mask.size(); ++c)
      if (b.mask[c] == T(0)) std::fill_n(b.values.begin() + static_cast<int64_t>(c) * features, features, padding_value);
  return b;
}

template <class T>
SequenceBatch<T> collate_ids(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id) {
  SequenceDataset<T> d("collate_ids");
  for (const auto& s : seqs) d.add_ids(s);
  std::vector<int64_t> idx(seqs.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  return collate(d, idx, pad_id);
}

template class SequenceDataset<float>;
template class SequenceDataset<double>;
template SequenceBatch<float> collate(const SequenceDataset<float>&, const std::vector<int64_t>&, int64_t);
template SequenceBatch<double> collate(const SequenceDataset<double>&, const std::vector<int64_t>&, int64_t);
template SequenceBatch<float> collate_dense(const std::vector<std::vector<float>>&, int64_t, float);
template SequenceBatch<double> collate_dense(const std::vector<std::vector<double>>&, int64_t, double);
template SequenceBatch<float> collate_ids(const std::vector<std::vector<int64_t>>&, int64_t);
template SequenceBatch<double> collate_ids(const std::vector<std::vector<int64_t>>&, int64_t);

}  // namespace reel
