#include "framework/distributed/communicator.h"

#include <cstring>

namespace reel::distributed {

void LocalCommunicator::gather(const void* send, int64_t bytes, void* recv, int) {
  if (bytes > 0 && send != recv) std::memmove(recv, send, static_cast<size_t>(bytes));
}

}  // namespace reel::distributed
