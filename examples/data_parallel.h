#pragma once
// --distributed for the training examples: under `mpirun -np N`, every rank trains on its shard of
// each global batch (--batch is the global batch) and gradients are averaged over ranks, weighted
// by loss terms (framework/distributed/gradient_sync.h). Without the flag, the same code runs on a
// LocalCommunicator: one process, nothing to average.
//
// Rank 0 logs, writes metrics and checkpoints; every rank can resume from the file (also with
// another number of ranks: the global batches, hence the trajectory, are the same).
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "framework/cli.h"
#include "framework/distributed/consistency.h"
#include "framework/distributed/gradient_sync.h"
#include "framework/distributed/mpi.h"
#include "framework/trainer.h"

namespace reel::examples {

inline void add_distributed_flags(Cli& cli) {
  cli.flag("distributed", "data-parallel over MPI ranks (run under mpirun -np N); --batch is the global batch")
      .option("bucket-kb", "1024", "gradient allreduce bucket size in KiB (--distributed)").integer_in(1, 1 << 20)
      .flag("overlap", "start gradient allreduces during backward (--distributed; measured not to pay here)")
      .flag("deterministic-reduce", "fixed-order gradient reduction: bitwise reproducible (--distributed)");
}

class DataParallel {
 public:
  explicit DataParallel(const Cli& cli) {
    if (cli.on("distributed")) {
      session_ = std::make_unique<distributed::MpiSession>();
      comm_ = &session_->world();
      if (comm_->rank() != 0) spdlog::set_level(spdlog::level::warn);  // one rank speaks
      spdlog::info("data-parallel: {} ranks", comm_->size());
    }
    options_.bucket_bytes = cli.integer("bucket-kb") * 1024;
    options_.overlap = cli.on("overlap");
    options_.deterministic = cli.on("deterministic-reduce");
  }
  int rank() const { return comm_->rank(); }
  int size() const { return comm_->size(); }
  bool root() const { return comm_->rank() == 0; }
  distributed::Communicator& comm() { return *comm_; }
  // What this rank writes: the path on rank 0, nothing elsewhere.
  std::string root_only(const std::string& path) const { return root() ? path : std::string(); }

  // Start-up: the facts every rank must share, then rank 0's parameters everywhere, then the
  // trainer averages over ranks. A no-op in one process.
  template <class T>
  void attach(Trainer<T>& trainer, ParameterStore<T>& store, const distributed::Facts& facts) {
    if (!session_) return;
    distributed::require_same_on_all_ranks(*comm_, facts);
    distributed::broadcast_parameters(*comm_, store);
    distributed::GradientSyncOptions o = options_;
    for (const Parameter<T>* p : store.all())  // embeddings: only the rows a batch touches travel
      if (p->name.size() >= 12 && p->name.compare(p->name.size() - 12, 12, "embed.weight") == 0) o.row_sparse.push_back(p->name);
    auto sync = std::make_shared<distributed::GradientSync<T>>(*comm_, store, o);
    trainer.set_gradient_sync(sync.get());
    sync_ = sync;
  }
  template <class I>
  std::vector<I> shard(const std::vector<I>& global) const {
    return distributed::shard(global, rank(), size());
  }
  // Sums of per-rank counts (evaluation, epoch totals).
  void sum(double* values, int64_t n) { comm_->allreduce_sum(values, n); }
  double communication_seconds() const { return comm_->stats().seconds; }

 private:
  std::unique_ptr<distributed::MpiSession> session_;
  distributed::LocalCommunicator local_;
  distributed::Communicator* comm_ = &local_;
  distributed::GradientSyncOptions options_;
  std::shared_ptr<void> sync_;
};

}  // namespace reel::examples
