#pragma once
/// \file
/// A data loader for in-memory datasets, as torch.utils.data.DataLoader is for PyTorch users:
/// batches of a SequenceDataset collated into SequenceBatches, shuffled from the loader's own Rng
/// (seeded: no global state), optionally bucketed by length (less padding), with or without the
/// last short batch, in a fixed order for evaluation. Deterministic given the seed, and resumable
/// mid-epoch: save() puts its position in a TrainingState (the checkpoint's /progress), restore()
/// continues with the very next batch.
///
/// \code
///   DataLoader<float> train(train_set, {/*batch_size=*/32, /*shuffle=*/true}, /*seed=*/1);
///   for (int epoch = 1; epoch <= epochs; ++epoch)
///     for (SequenceBatch<float> b; train.next(b);) trainer.step(tape, ..., b.tokens());
/// \endcode
///
/// With shard(rank, size), every global batch is cut for data-parallel ranks
/// (framework/distributed): each rank gets its contiguous part; all ranks draw the same order.
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "framework/checkpoint.h"
#include "framework/rng.h"
#include "framework/tape.h"

namespace reel {

/// How a DataLoader cuts and orders its batches.
struct LoaderOptions {
  int64_t batch_size = 32;  ///< sequences per batch (>= 1); the global batch when sharded
  bool shuffle = false;           ///< a new order every epoch (false: dataset order, for evaluation)
  bool bucket_by_length = false;  ///< batches of similar lengths (make_batches in data/batching.h)
  bool drop_last = false;         ///< leave out the last, smaller batch of an epoch
  int64_t pad_id = 0;  ///< the token id padding is filled with (collate)
};

/// Batches of a SequenceDataset, epoch after epoch (see the file description). The dataset must
/// outlive the loader.
template <class T>
class DataLoader {
 public:
  /// A loader over data whose order draws come from its own Rng seeded with seed. Throws UsageError
  /// if batch_size < 1 or data is empty.
  DataLoader(const SequenceDataset<T>& data, LoaderOptions options, uint64_t seed = 0);

  /// This rank's part of every global batch (rank of size ranks; UsageError unless
  /// 0 <= rank < size). A rank whose part of a batch is empty still gets the batch: with
  /// batch.batch == 0, and global_batch() telling its size.
  void shard(int rank, int size);

  /// The next batch of the epoch into out; false (out untouched) once the epoch is over, and the
  /// following call starts the next epoch.
  bool next(SequenceBatch<T>& out);
  int64_t epoch() const { return epoch_; }          ///< epochs begun (1 during the first)
  int64_t position() const { return position_; }    ///< batches yielded in the current epoch
  int64_t batches_per_epoch() const;  ///< batches in an epoch (the last, short one counted unless drop_last)
  const std::vector<int64_t>& global_batch() const { return global_; }  ///< the last batch before sharding
  const SequenceDataset<T>& dataset() const { return data_; }  ///< the dataset it reads

  /// Where the loader is: epochs completed, batches done in the current one and the order's random
  /// state, under rng[name] (the checkpoint's /progress). restore() continues from there.
  void save(TrainingState& state, const std::string& name = "loader") const;
  /// Continues from what save() stored under rng[name]: the epoch, and within an interrupted
  /// epoch its order and the next batch. Throws CheckpointError if state holds no such entry or
  /// names a batch past the epoch's end.
  void restore(const TrainingState& state, const std::string& name = "loader");

 private:
  void plan();
  const SequenceDataset<T>& data_;
  LoaderOptions o_;
  Rng rng_;
  std::array<uint64_t, 6> rng_at_epoch_start_{};
  std::vector<std::vector<int64_t>> batches_;
  std::vector<int64_t> global_;
  int64_t epoch_ = 0, position_ = 0;
  bool in_epoch_ = false;
  int rank_ = 0, ranks_ = 1;
};

/// Runs fn(tape, batch) on every batch of loader under no-grad, clearing the tape before each
/// batch (inference memory stays one batch's): the evaluation loop. The loader should not shuffle.
template <class T, class Fn>
void for_each_batch_no_grad(Tape<T>& tape, DataLoader<T>& loader, Fn&& fn) {
  NoGradGuard<T> no_grad(tape);
  for (SequenceBatch<T> b; loader.next(b);) {
    tape.clear();
    if (b.batch > 0) fn(tape, b);
  }
  tape.clear();
}

}  // namespace reel
