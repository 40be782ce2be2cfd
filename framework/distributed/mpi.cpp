// MpiCommunicator: the Communicator collectives on MPI (built when REEL_WITH_MPI is on).
#include "framework/distributed/mpi.h"

// The C API only: Open MPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <exception>
#include <string>
#include <vector>

namespace reel::distributed {
namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw DistributedError(std::string(call) + " failed: " + std::string(text, static_cast<size_t>(len)));
}

int count_of(int64_t n, const char* call) {
  if (n < 0 || n > 0x7fffffff)
    throw DistributedError(std::string(call) + ": " + std::to_string(n) + " elements is outside MPI's int count range");
  return static_cast<int>(n);
}

// Wall time of one blocking region, added to the communicator's stats.
struct Timed {
  CommStats& s;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  explicit Timed(CommStats& st) : s(st) { ++s.calls; }
  ~Timed() { s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned_ && !finalized) MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduce_sum(float* d, int64_t n) override { allreduce(d, n, MPI_FLOAT, sizeof(float)); }
  void allreduce_sum(double* d, int64_t n) override { allreduce(d, n, MPI_DOUBLE, sizeof(double)); }
  Request iallreduce_sum(float* d, int64_t n) override { return iallreduce(d, n, MPI_FLOAT, sizeof(float)); }
  Request iallreduce_sum(double* d, int64_t n) override { return iallreduce(d, n, MPI_DOUBLE, sizeof(double)); }

  bool test(Request r) override {
    MPI_Request& q = pending(r);
    if (q == MPI_REQUEST_NULL) return true;
    int done = 0;
    check(MPI_Test(&q, &done, MPI_STATUS_IGNORE), "MPI_Test");
    return done != 0;
  }
  void wait(Request r) override {
    MPI_Request& q = pending(r);
    if (q == MPI_REQUEST_NULL) return;
    Timed t(stats_);
    check(MPI_Wait(&q, MPI_STATUS_IGNORE), "MPI_Wait (allreduce)");
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    Timed t(stats_);
    check(MPI_Bcast(data, count_of(bytes, "MPI_Bcast"), MPI_BYTE, root, comm_), "MPI_Bcast");
  }
  void gather(const void* send, int64_t bytes, void* recv, int root) override {
    Timed t(stats_);
    const int c = count_of(bytes, "MPI_Gather");
    check(MPI_Gather(send, c, MPI_BYTE, recv, c, MPI_BYTE, root, comm_), "MPI_Gather");
  }
  void allgather(const void* send, int64_t bytes, void* recv) override {
    Timed t(stats_);
    const int c = count_of(bytes, "MPI_Allgather");
    check(MPI_Allgather(send, c, MPI_BYTE, recv, c, MPI_BYTE, comm_), "MPI_Allgather");
  }
  void allgatherv(const void* send, void* recv, const std::vector<int64_t>& bytes_of) override {
    if (bytes_of.size() != static_cast<size_t>(size_))
      throw DistributedError("allgatherv: " + std::to_string(bytes_of.size()) + " counts for " + std::to_string(size_) + " ranks");
    counts_.resize(bytes_of.size());
    displs_.resize(bytes_of.size());
    int64_t at = 0;
    for (size_t r = 0; r < bytes_of.size(); ++r) {
      counts_[r] = count_of(bytes_of[r], "MPI_Allgatherv");
      displs_[r] = count_of(at, "MPI_Allgatherv (displacement)");
      at += bytes_of[r];
    }
    Timed t(stats_);
    check(MPI_Allgatherv(send, counts_[static_cast<size_t>(rank_)], MPI_BYTE, recv, counts_.data(), displs_.data(),
                         MPI_BYTE, comm_),
          "MPI_Allgatherv");
  }
  void barrier() override {
    Timed t(stats_);
    check(MPI_Barrier(comm_), "MPI_Barrier");
  }
  std::unique_ptr<Communicator> split(int color, int key) override {
    MPI_Comm out = MPI_COMM_NULL;
    check(MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &out), "MPI_Comm_split");
    if (out == MPI_COMM_NULL) return nullptr;
    return std::make_unique<MpiCommunicator>(out, true);
  }

 private:
  void allreduce(void* d, int64_t n, MPI_Datatype type, size_t elem) {
    Timed t(stats_);
    stats_.bytes_reduced += n * static_cast<int64_t>(elem);
    check(MPI_Allreduce(MPI_IN_PLACE, d, count_of(n, "MPI_Allreduce"), type, MPI_SUM, comm_), "MPI_Allreduce");
  }
  Request iallreduce(void* d, int64_t n, MPI_Datatype type, size_t elem) {
    stats_.bytes_reduced += n * static_cast<int64_t>(elem);
    ++stats_.calls;
    MPI_Request q = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, d, count_of(n, "MPI_Iallreduce"), type, MPI_SUM, comm_, &q), "MPI_Iallreduce");
    // Completed requests leave their slot null, and slots are reused: no growth over a run.
    for (size_t i = 0; i < requests_.size(); ++i)
      if (requests_[i] == MPI_REQUEST_NULL) {
        requests_[i] = q;
        return static_cast<Request>(i);
      }
    requests_.push_back(q);
    return static_cast<Request>(requests_.size() - 1);
  }
  MPI_Request& pending(Request r) {
    if (r < 0 || static_cast<size_t>(r) >= requests_.size())
      throw DistributedError("MpiCommunicator: unknown request " + std::to_string(r));
    return requests_[static_cast<size_t>(r)];
  }

  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> requests_;
  std::vector<int> counts_, displs_;
};

}  // namespace

bool mpi_built() { return true; }

MpiSession::MpiSession() {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (initialized) throw DistributedError("MpiSession: MPI is already initialised (one session per program)");
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  world_ = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD, false);
}

MpiSession::~MpiSession() {
  world_.reset();
  // While an exception unwinds, the other ranks may sit in a collective this rank will never
  // join: MPI_Finalize could wait forever. Leave MPI up for abort_world().
  if (std::uncaught_exceptions() > 0) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void abort_world(int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
}

int world_rank() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return -1;
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace reel::distributed
