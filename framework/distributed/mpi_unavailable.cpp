// MpiSession when reel is built without MPI (REEL_WITH_MPI=OFF): a clear error, nothing else.
#include "framework/distributed/mpi.h"

namespace reel::distributed {

bool mpi_built() { return false; }

MpiSession::MpiSession() {
  throw DistributedError(
      "distributed training needs MPI, but reel was built without it (REEL_WITH_MPI=OFF: install "
      "libopenmpi-dev and openmpi-bin, then reconfigure)");
}
MpiSession::~MpiSession() = default;

void abort_world(int) {}
int world_rank() { return -1; }

}  // namespace reel::distributed
