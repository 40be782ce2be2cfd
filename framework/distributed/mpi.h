#pragma once
/// \file
/// Open MPI under reel: MpiSession initialises MPI for its lifetime (RAII), world() is
/// MPI_COMM_WORLD as a Communicator. Errors of MPI calls become DistributedError naming the call
/// (the communicators use MPI_ERRORS_RETURN). mpi.h itself is not included here: programs and
/// headers that use reel need no MPI include path.
///
/// A rank that fails must not leave the others waiting in a collective: a session destroyed while
/// an exception unwinds does not finalize (MPI_Finalize would wait for the others); the program
/// reports the error and calls abort_world(code), which ends every rank (MPI_Abort) with mpirun's
/// message naming this rank. run_main in the examples does exactly that.
#include <memory>

#include "framework/distributed/communicator.h"

namespace reel::distributed {

/// True when reel was built with REEL_WITH_MPI (CMake found MPI).
bool mpi_built();

/// MPI for the lifetime of this object (RAII); one per process.
class MpiSession {
 public:
  /// MPI_Init_thread (MPI_THREAD_FUNNELED: only the main thread calls MPI). Throws DistributedError
  /// when reel was built without MPI or MPI is already initialised by someone else.
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  /// MPI_COMM_WORLD as a Communicator, valid while the session lives
  Communicator& world() { return *world_; }

 private:
  std::unique_ptr<Communicator> world_;
};

/// Inside an initialised, not finalised MPI: MPI_Abort(MPI_COMM_WORLD, code) (does not return).
/// Otherwise a no-op, so a one-process program can call it unconditionally.
void abort_world(int code);
/// This process's rank in MPI_COMM_WORLD while MPI is initialised, else -1.
int world_rank();

}  // namespace reel::distributed
