#include "data/loader.h"

#include "framework/error.h"

namespace reel {

template <class T>
DataLoader<T>::DataLoader(const SequenceDataset<T>& data, LoaderOptions options, uint64_t seed)
    : data_(data), o_(options), rng_(seed) {
  if (o_.batch_size < 1) throw UsageError("DataLoader: batch_size must be >= 1, got " + std::to_string(o_.batch_size));
  data_.require_nonempty();
}

template <class T>
void DataLoader<T>::shard(int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size)
    throw UsageError("DataLoader::shard: rank " + std::to_string(rank) + " of " + std::to_string(size));
  rank_ = rank;
  ranks_ = size;
}

template <class T>
int64_t DataLoader<T>::batches_per_epoch() const {
  const int64_t n = data_.size(), b = o_.batch_size;
  return o_.drop_last ? n / b : (n + b - 1) / b;
}

template <class T>
void DataLoader<T>::plan() {
  rng_at_epoch_start_ = rng_.state();
  batches_ = make_batches(data_.lengths(), o_.batch_size, rng_, o_.shuffle, o_.bucket_by_length);
  if (o_.drop_last) {
    std::vector<std::vector<int64_t>> full;
    for (auto& b : batches_)
      if (static_cast<int64_t>(b.size()) == o_.batch_size) full.push_back(std::move(b));
    batches_ = std::move(full);
  }
  ++epoch_;
  position_ = 0;
  in_epoch_ = true;
}

template <class T>
bool DataLoader<T>::next(SequenceBatch<T>& out) {
  if (!in_epoch_) plan();
  if (position_ >= static_cast<int64_t>(batches_.size())) {
    in_epoch_ = false;
    return false;
  }
  global_ = batches_[static_cast<size_t>(position_++)];
  const int64_t n = static_cast<int64_t>(global_.size());
  const int64_t begin = rank_ * (n / ranks_) + std::min<int64_t>(rank_, n % ranks_);
  const int64_t end = begin + n / ranks_ + (rank_ < n % ranks_ ? 1 : 0);
  if (begin == end) {
    out = SequenceBatch<T>{};
    out.features = data_.features();
    return true;
  }
  out = collate(data_, std::vector<int64_t>(global_.begin() + begin, global_.begin() + end), o_.pad_id);
  return true;
}

template <class T>
void DataLoader<T>::save(TrainingState& state, const std::string& name) const {
  const bool mid = in_epoch_;  // also after the epoch's last batch, until next() has closed it
  state.epoch = mid ? epoch_ - 1 : epoch_;
  state.batch_in_epoch = mid ? position_ : 0;
  state.rng[name] = mid ? rng_at_epoch_start_ : rng_.state();
}

template <class T>
void DataLoader<T>::restore(const TrainingState& state, const std::string& name) {
  auto it = state.rng.find(name);
  if (it == state.rng.end())
    throw CheckpointError("DataLoader::restore: no '" + name + "' random state in the checkpoint's /progress");
  rng_.set_state(it->second);
  epoch_ = state.epoch;
  in_epoch_ = false;
  position_ = 0;
  if (state.batch_in_epoch > 0) {
    plan();  // the interrupted epoch's order, from its saved random state
    if (state.batch_in_epoch > static_cast<int64_t>(batches_.size()))
      throw CheckpointError("DataLoader::restore: the checkpoint is at batch " + std::to_string(state.batch_in_epoch) +
                            " of an epoch of " + std::to_string(batches_.size()) + " batches (another dataset or batch size?)");
    position_ = state.batch_in_epoch;
  }
}

template class DataLoader<float>;
template class DataLoader<double>;

}  // namespace reel
