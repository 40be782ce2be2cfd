#pragma once
/// \file
/// Data-parallel gradient averaging, as PyTorch DDP and Horovod do it: after each rank's backward
/// over its shard of the global batch, every parameter gradient becomes the gradient of the
/// *global* batch's mean loss.
///
///  * Weighted by loss terms. Rank r's loss is the mean over its n_r terms (tokens of a tagger,
///    sequences of a classifier), so the global gradient is sum_r (n_r / N) g_r with N = sum_r n_r.
///    begin() allreduces (n_r * loss_r, n_r) once: every rank then knows N and the global loss.
///  * Buckets. Gradients are packed into buckets of about bucket_bytes, laid out in the reverse of
///    the store's creation order (head first, embedding last: the order backward finishes them),
///    and reduced bucket by bucket, always in bucket order on every rank.
///  * Overlap. With overlap on, the tape announces each parameter as soon as its gradient is final
///    (Tape::set_grad_ready_hook) and a bucket's non-blocking allreduce starts when its last
///    parameter is final, while backward goes on through the rest of the graph. The last bucket,
///    final only when backward ends, gets the (faster) blocking allreduce.
///  * Deterministic mode. Each bucket is gathered at rank 0 in rank order, summed there in rank
///    order and broadcast: the result does not depend on MPI's choice of algorithm or on timing,
///    and equals one process that computes the shards one after the other and sums them in rank
///    order, bit for bit (see tests/test_distributed.cpp). No overlap in this mode.
/// Use it through Trainer::set_gradient_sync; the Trainer calls begin() before and finish() after
/// backward.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "framework/distributed/communicator.h"
#include "framework/distributed/row_sparse.h"
#include "framework/parameter.h"
#include "framework/tape.h"

namespace reel::distributed {

/// How GradientSync packs, reduces and checks.
struct GradientSyncOptions {
  int64_t bucket_bytes = int64_t{1} << 20;  ///< a bucket closes once it holds at least this much
  /// Start each bucket's allreduce during backward. Off by default: on this machine's Open MPI 4.1
  /// it never paid (docs/distributed.md: tagger 2.73 vs 2.74 ms, LSTM-1024 1064.8 vs 1058.2 ms).
  bool overlap = false;
  bool deterministic = false;               ///< fixed-order reduction (gather, sum, broadcast)
  int64_t check_every = 100;                ///< after_step: parameter checksums across ranks (0: never)
  /// Parameters (rows x cols) whose gradient touches few rows, embeddings: reduced as the touched
  /// rows only (row_sparse.h) instead of in a bucket.
  std::vector<std::string> row_sparse;
};

/// Averages every parameter gradient over the ranks of a communicator (see the file description).
template <class T>
class GradientSync {
 public:
  /// A sync of store's gradients over comm's ranks; comm and store must outlive it. Every rank
  /// must build the same store (same parameters in the same order).
  GradientSync(Communicator& comm, ParameterStore<T>& store, GradientSyncOptions options = {});
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;
  ~GradientSync();

  /// Before backward: this rank's mean loss over loss_terms terms (0 terms: the rank has no data
  /// in this step and makes no backward). Returns the global batch's mean loss, the same on every
  /// rank. Throws DistributedError if no rank holds a loss term.
  double begin(Tape<T>& tape, double local_loss, double loss_terms);
  /// After backward (or instead of it, with 0 terms): the averaged gradients in every parameter.
  void finish();
  /// After the optimizer step: every check_every steps, check_parameters_agree (consistency.h).
  void after_step(int64_t step);

  /// The loss terms of every rank together in the current step (set by begin())
  double global_terms() const { return global_terms_; }
  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }  ///< number of dense buckets
  /// Steps whose row-sparse parameters went as rows / fell back to the dense reduction.
  ///@{
  int64_t sparse_steps() const { return sparse_.empty() ? 0 : sparse_.front()->sparse_steps(); }
  int64_t dense_fallback_steps() const { return sparse_.empty() ? 0 : sparse_.front()->dense_steps(); }
  ///@}
  Communicator& communicator() { return comm_; }  ///< the communicator it reduces over
  const GradientSyncOptions& options() const { return options_; }  ///< the options it was made with

 private:
  struct Slot {
    Parameter<T>* p;
    int64_t bucket, offset;
    bool ready;
  };
  struct Bucket {
    std::vector<T> data;
    int64_t params = 0, ready = 0;
    bool launched = false, done = false;  ///< done: its request completed (and its slot may be reused)
    Communicator::Request request = -1;
  };
  static void on_ready(void* self, const Parameter<T>& p);
  void mark_ready(Slot& s);
  void launch_complete_buckets();
  void reduce_deterministic(Bucket& b);

  Communicator& comm_;
  ParameterStore<T>& store_;
  GradientSyncOptions options_;
  std::vector<Slot> slots_;
  std::unordered_map<const Parameter<T>*, size_t> slot_of_;
  std::vector<Bucket> buckets_;
  std::vector<std::unique_ptr<RowSparseReducer<T>>> sparse_;
  std::vector<T> gathered_;  ///< deterministic mode: size() copies of the largest bucket, at rank 0
  size_t next_launch_ = 0;
  T scale_ = T(1);
  double global_terms_ = 0;
  Tape<T>* tape_ = nullptr;
};

}  // namespace reel::distributed
