#include "data/sequence_batch.h"

#include <algorithm>
#include <string>

#include "framework/error.h"

namespace reel {

PackedLayout packed_layout(const std::vector<int64_t>& lengths, int64_t max_len) {
  for (int64_t len : lengths)
    if (len < 1 || len > max_len)
      throw UsageError("packed_layout: sequence length " + std::to_string(len) + " outside [1, " + std::to_string(max_len) + "]");
  PackedLayout p;
  p.info = make_pack_info(lengths);
  p.rows.reserve(static_cast<size_t>(p.info.total()));
  for (size_t t = 0; t < p.info.batch_sizes.size(); ++t)
    for (int64_t i = 0; i < p.info.batch_sizes[t]; ++i)
      p.rows.push_back(p.info.sorted_indices[static_cast<size_t>(i)] * max_len + static_cast<int64_t>(t));
  return p;
}

template <class T>
void SequenceBatch<T>::validate(const char* who) const {
  const int64_t cells = batch * max_len;
  const std::string w(who);
  if (batch <= 0 || max_len <= 0)
    throw UsageError(w + ": empty batch (" + std::to_string(batch) + " x " + std::to_string(max_len) + ")");
  if (static_cast<int64_t>(lengths.size()) != batch)
    throw ShapeError(w + ": " + std::to_string(lengths.size()) + " lengths for a batch of " + std::to_string(batch));
  for (int64_t len : lengths)
    if (len < 1 || len > max_len)
      throw UsageError(w + ": sequence length " + std::to_string(len) + " outside [1, " + std::to_string(max_len) + "]");
  if (features > 0 && static_cast<int64_t>(values.size()) != cells * features)
    throw ShapeError(w + ": " + std::to_string(values.size()) + " values, expected (" + std::to_string(batch) + ", " +
                     std::to_string(max_len) + ", " + std::to_string(features) + ")");
  if (features == 0 && static_cast<int64_t>(ids.size()) != cells)
    throw ShapeError(w + ": " + std::to_string(ids.size()) + " ids, expected (" + std::to_string(batch) + ", " +
                     std::to_string(max_len) + ")");
  if (!mask.empty() && static_cast<int64_t>(mask.size()) != cells)
    throw ShapeError(w + ": mask of " + std::to_string(mask.size()) + " values, expected " + std::to_string(cells));
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != batch)
    throw ShapeError(w + ": " + std::to_string(labels.size()) + " labels for a batch of " + std::to_string(batch));
  if (!tags.empty() && static_cast<int64_t>(tags.size()) != cells)
    throw ShapeError(w + ": " + std::to_string(tags.size()) + " tags, expected (" + std::to_string(batch) + ", " +
                     std::to_string(max_len) + ")");
}

template <class T>
int64_t SequenceBatch<T>::tokens() const {
  int64_t n = 0;
  for (int64_t len : lengths) n += len;
  return n;
}

template <class T>
const PackedLayout& SequenceBatch<T>::packed() const {
  if (!packed_ || packed_lengths_ != lengths || packed_max_len_ != max_len) {
    packed_ = std::make_shared<const PackedLayout>(packed_layout(lengths, max_len));
    packed_lengths_ = lengths;
    packed_max_len_ = max_len;
  }
  return *packed_;
}

namespace {
template <class V>
std::vector<V> gather_packed(const std::vector<V>& data, int64_t width, const PackedLayout& p) {
  std::vector<V> out(p.rows.size() * static_cast<size_t>(width));
  for (size_t k = 0; k < p.rows.size(); ++k)
    std::copy_n(data.begin() + p.rows[k] * width, width, out.begin() + static_cast<int64_t>(k) * width);
  return out;
}
}  // namespace

template <class T>
std::vector<T> pack(const SequenceBatch<T>& b) {
  b.validate("pack");
  if (b.features == 0) throw UsageError("pack: the batch holds token ids (use pack_ids)");
  return gather_packed(b.values, b.features, b.packed());
}

template <class T>
std::vector<int64_t> pack_ids(const SequenceBatch<T>& b) {
  b.validate("pack_ids");
  if (b.features > 0) throw UsageError("pack_ids: the batch holds dense features (use pack)");
  return gather_packed(b.ids, 1, b.packed());
}

template <class T>
std::vector<T> unpack(const std::vector<T>& packed, int64_t width, const SequenceBatch<T>& b, T padding_value) {
  if (width < 1) throw UsageError("unpack: width must be >= 1, got " + std::to_string(width));
  const PackedLayout& p = b.packed();
  if (packed.size() != p.rows.size() * static_cast<size_t>(width))
    throw UsageError("unpack: expected " + std::to_string(p.rows.size()) + " x " + std::to_string(width) + " = " +
                     std::to_string(p.rows.size() * static_cast<size_t>(width)) + " values, got " +
                     std::to_string(packed.size()));
  std::vector<T> out(static_cast<size_t>(b.batch * b.max_len * width), padding_value);
  for (size_t k = 0; k < p.rows.size(); ++k)
    std::copy_n(packed.begin() + static_cast<int64_t>(k) * width, width, out.begin() + p.rows[k] * width);
  return out;
}

template struct SequenceBatch<float>;
template struct SequenceBatch<double>;
template std::vector<float> pack(const SequenceBatch<float>&);
template std::vector<double> pack(const SequenceBatch<double>&);
template std::vector<int64_t> pack_ids(const SequenceBatch<float>&);
template std::vector<int64_t> pack_ids(const SequenceBatch<double>&);
template std::vector<float> unpack(const std::vector<float>&, int64_t, const SequenceBatch<float>&, float);
template std::vector<double> unpack(const std::vector<double>&, int64_t, const SequenceBatch<double>&, double);

}  // namespace reel
