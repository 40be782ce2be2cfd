#include "framework/distributed/gradient_sync.h"

#include <algorithm>
#include <string>

#include "framework/distributed/consistency.h"

namespace reel::distributed {

template <class T>
GradientSync<T>::GradientSync(Communicator& comm, ParameterStore<T>& store, GradientSyncOptions options)
    : comm_(comm), store_(store), options_(options) {
  if (options_.bucket_bytes < 1)
    throw DistributedError("GradientSync: bucket_bytes must be >= 1, got " + std::to_string(options_.bucket_bytes));
  auto params = store.all();
  std::reverse(params.begin(), params.end());  // backward finishes the last-created first
  for (const std::string& name : options_.row_sparse) {
    Parameter<T>* p = store.find(name);
    if (!p) throw DistributedError("GradientSync: row_sparse names '" + name + "', which is not a parameter of the store");
    sparse_.push_back(std::make_unique<RowSparseReducer<T>>(*p));
  }
  for (Parameter<T>* p : params) {
    if (std::find(options_.row_sparse.begin(), options_.row_sparse.end(), p->name) != options_.row_sparse.end()) continue;
    if (buckets_.empty() || static_cast<int64_t>(buckets_.back().data.size() * sizeof(T)) >= options_.bucket_bytes)
      buckets_.emplace_back();
    Bucket& b = buckets_.back();
    slots_.push_back({p, static_cast<int64_t>(buckets_.size() - 1), static_cast<int64_t>(b.data.size()), false});
    b.data.resize(b.data.size() + static_cast<size_t>(p->size()));
    ++b.params;
  }
  for (size_t i = 0; i < slots_.size(); ++i) slot_of_[slots_[i].p] = i;
  if (options_.deterministic && comm_.rank() == 0) {
    size_t largest = 0;
    for (const Bucket& b : buckets_) largest = std::max(largest, b.data.size());
    gathered_.resize(largest * static_cast<size_t>(comm_.size()));
  }
}

template <class T>
GradientSync<T>::~GradientSync() {
  if (tape_) tape_->set_grad_ready_hook(nullptr, nullptr);
}

template <class T>
double GradientSync<T>::begin(Tape<T>& tape, double local_loss, double loss_terms) {
  if (!(loss_terms >= 0))
    throw DistributedError("GradientSync::begin: loss_terms must be >= 0, got " + std::to_string(loss_terms));
  double sums[2] = {loss_terms > 0 ? local_loss * loss_terms : 0.0, loss_terms};
  comm_.allreduce_sum(sums, 2);
  global_terms_ = sums[1];
  if (!(global_terms_ > 0))
    throw DistributedError("GradientSync: no rank holds a loss term in this step (every shard of the global batch is empty)");
  scale_ = static_cast<T>(loss_terms / global_terms_);
  for (Slot& s : slots_) s.ready = false;
  for (Bucket& b : buckets_) {
    b.ready = 0;
    b.launched = false;
    b.done = false;
  }
  next_launch_ = 0;
  tape_ = &tape;
  tape.set_grad_ready_hook(options_.overlap && !options_.deterministic ? &GradientSync::on_ready : nullptr, this);
  return sums[0] / global_terms_;
}

template <class T>
void GradientSync<T>::on_ready(void* self, const Parameter<T>& p) {
  auto* sync = static_cast<GradientSync*>(self);
  auto it = sync->slot_of_.find(&p);
  if (it == sync->slot_of_.end()) return;  // a parameter of another store: not ours to reduce
  sync->mark_ready(sync->slots_[it->second]);
  sync->launch_complete_buckets();
}

// Copies p's scaled gradient into its bucket.
template <class T>
void GradientSync<T>::mark_ready(Slot& s) {
  if (s.ready) return;
  s.ready = true;
  Bucket& b = buckets_[static_cast<size_t>(s.bucket)];
  T* dst = b.data.data() + s.offset;
  const T* g = s.p->grad.data();
  const int64_t n = s.p->size();
  for (int64_t i = 0; i < n; ++i) dst[i] = g[i] * scale_;
  ++b.ready;
}

// Starts, in bucket order, every bucket whose parameters are all final; lets MPI progress the
// ones in flight.
// The last bucket (the first-created parameters, final last) is never started here: finish()
// reduces it with the blocking allreduce, as nothing is left to overlap it with, and Open MPI's
// blocking algorithms are faster than its non-blocking ones (docs/distributed.md). Which call a
// bucket gets depends on its index only, so every rank makes the same calls in the same order.
template <class T>
void GradientSync<T>::launch_complete_buckets() {
  while (next_launch_ + 1 < buckets_.size() && buckets_[next_launch_].ready == buckets_[next_launch_].params) {
    Bucket& b = buckets_[next_launch_++];
    b.request = comm_.iallreduce_sum(b.data.data(), static_cast<int64_t>(b.data.size()));
    b.launched = true;
  }
  for (size_t i = 0; i < next_launch_; ++i)
    if (buckets_[i].launched && !buckets_[i].done) buckets_[i].done = comm_.test(buckets_[i].request);
}

template <class T>
void GradientSync<T>::reduce_deterministic(Bucket& b) {
  const int64_t n = static_cast<int64_t>(b.data.size());
  comm_.gather(b.data.data(), n * static_cast<int64_t>(sizeof(T)), gathered_.data(), 0);
  if (comm_.rank() == 0) {
    for (int64_t i = 0; i < n; ++i) b.data[static_cast<size_t>(i)] = gathered_[static_cast<size_t>(i)];
    for (int r = 1; r < comm_.size(); ++r) {
      const T* src = gathered_.data() + static_cast<size_t>(r) * static_cast<size_t>(n);
      for (int64_t i = 0; i < n; ++i) b.data[static_cast<size_t>(i)] += src[i];
    }
  }
  comm_.broadcast(b.data.data(), n * static_cast<int64_t>(sizeof(T)), 0);
}

template <class T>
void GradientSync<T>::finish() {
  if (tape_) tape_->set_grad_ready_hook(nullptr, nullptr);
  tape_ = nullptr;
  for (Slot& s : slots_) mark_ready(s);  // parameters the tape never announced (unused, or no backward)
  if (options_.deterministic) {
    for (Bucket& b : buckets_) reduce_deterministic(b);
    for (auto& sp : sparse_) sp->reduce(comm_, scale_, true);
  } else {
    if (options_.overlap) {
      launch_complete_buckets();
      if (!buckets_.empty()) {
        Bucket& last = buckets_.back();
        comm_.allreduce_sum(last.data.data(), static_cast<int64_t>(last.data.size()));
      }
      for (auto& sp : sparse_) sp->reduce(comm_, scale_, false);
      for (size_t i = 0; i + 1 < buckets_.size(); ++i)
        if (!buckets_[i].done) comm_.wait(buckets_[i].request);
    } else {
      for (Bucket& b : buckets_) comm_.allreduce_sum(b.data.data(), static_cast<int64_t>(b.data.size()));
      for (auto& sp : sparse_) sp->reduce(comm_, scale_, false);
    }
  }
  for (Slot& s : slots_) {
    const T* src = buckets_[static_cast<size_t>(s.bucket)].data.data() + s.offset;
    std::copy(src, src + s.p->size(), s.p->grad.begin());
  }
}

template <class T>
void GradientSync<T>::after_step(int64_t step) {
  if (options_.check_every > 0 && step % options_.check_every == 0) check_parameters_agree(comm_, store_, step);
}

template class GradientSync<float>;
template class GradientSync<double>;

}  // namespace reel::distributed
