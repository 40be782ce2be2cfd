#pragma once
/// \file
/// The collectives data-parallel training needs, behind one interface: MpiCommunicator (mpi.h) runs
/// them on Open MPI; LocalCommunicator is the one-process case (every collective is the identity),
/// so code written for N ranks runs unchanged, and tested, in a plain program.
///
/// Every call is collective: all ranks of the communicator make the same calls in the same order.
/// Blocking time is counted (stats()): the communication share of a training step.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace reel::distributed {

/// An MPI call failed, or ranks disagree (configuration, parameters): the message names the call
/// or the difference.
struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// What a communicator has spent since construction or reset_stats().
struct CommStats {
  double seconds = 0;          ///< wall time spent blocked in collectives (waits included)
  int64_t bytes_reduced = 0;   ///< payload of allreduce/reduce calls, this rank's side
  int64_t calls = 0;  ///< collective calls made
};

/// The collectives of data-parallel training over a group of ranks (see the file description).
class Communicator {
 public:
  using Request = int64_t;  ///< a pending non-blocking call; wait() completes it

  virtual ~Communicator() = default;
  virtual int rank() const = 0;  ///< this process's rank, 0 .. size()-1
  virtual int size() const = 0;  ///< number of ranks

  /// data[i] = sum over ranks of data[i] for i < n, in place; every rank gets the same values.
  ///@{
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  ///@}
  /// Non-blocking forms: data must stay untouched until wait(request) returns.
  ///@{
  virtual Request iallreduce_sum(float* data, int64_t n) = 0;
  virtual Request iallreduce_sum(double* data, int64_t n) = 0;
  ///@}
  virtual bool test(Request r) = 0;  ///< lets the library progress; true once complete
  virtual void wait(Request r) = 0;  ///< blocks until request r is complete

  /// Every rank's data (bytes) becomes root's.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  /// recv (at root only: size() * bytes) receives every rank's bytes in rank order.
  virtual void gather(const void* send, int64_t bytes, void* recv, int root) = 0;
  /// recv (size() * bytes) receives every rank's bytes in rank order, on every rank.
  virtual void allgather(const void* send, int64_t bytes, void* recv) = 0;
  /// Rank r sends bytes_of[r] bytes (bytes_of: every rank's count, the same on every rank); recv
  /// receives them all back to back in rank order, on every rank.
  virtual void allgatherv(const void* send, void* recv, const std::vector<int64_t>& bytes_of) = 0;
  virtual void barrier() = 0;  ///< returns once every rank has called it
  /// A communicator of the ranks that pass the same color (ordered by key, then rank); color < 0:
  /// this rank joins none and gets null. Collective over this communicator.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;

  const CommStats& stats() const { return stats_; }  ///< time blocked, bytes reduced and calls so far
  void reset_stats() { stats_ = {}; }  ///< starts the counts again from zero

 protected:
  CommStats stats_;  ///< what implementations count into
};

/// One rank: reductions leave data as it is.
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }  ///< 0
  int size() const override { return 1; }  ///< 1
  /// Leave data as it is (the sum over one rank).
  ///@{
  void allreduce_sum(float*, int64_t) override {}
  void allreduce_sum(double*, int64_t) override {}
  Request iallreduce_sum(float*, int64_t) override { return 0; }
  Request iallreduce_sum(double*, int64_t) override { return 0; }
  ///@}
  bool test(Request) override { return true; }
  void wait(Request) override {}  ///< nothing to wait for
  void broadcast(void*, int64_t, int) override {}  ///< data is root's already
  void gather(const void* send, int64_t bytes, void* recv, int) override;
  void allgather(const void* send, int64_t bytes, void* recv) override { gather(send, bytes, recv, 0); }
  void allgatherv(const void* send, void* recv, const std::vector<int64_t>& bytes_of) override {
    gather(send, bytes_of.at(0), recv, 0);
  }
  void barrier() override {}  ///< nothing to wait for
  std::unique_ptr<Communicator> split(int color, int) override {
    return color < 0 ? nullptr : std::make_unique<LocalCommunicator>();
  }
};

}  // namespace reel::distributed
