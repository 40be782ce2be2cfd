#include "framework/distributed/consistency.h"

#include <algorithm>
#include <cstring>

namespace reel::distributed {
namespace {

std::string serialize(const Facts& facts) {
  std::string s;
  for (const auto& [k, v] : facts) s += k + '\x1f' + v + '\x1e';
  return s;
}

Facts parse(const std::string& s) {
  Facts out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t sep = s.find('\x1f', pos), end = s.find('\x1e', pos);
    if (sep == std::string::npos || end == std::string::npos || sep > end) break;
    out.emplace_back(s.substr(pos, sep - pos), s.substr(sep + 1, end - sep - 1));
    pos = end + 1;
  }
  return out;
}

// This rank's differences from rank 0's facts, "" if none.
std::string differences(const Facts& mine, const Facts& root, int rank) {
  std::string d;
  auto add = [&](const std::string& s) { d += (d.empty() ? "" : "; ") + s; };
  const std::string r = "rank " + std::to_string(rank) + ": ";
  for (const auto& fact : root) {
    const std::string& k = fact.first;
    auto it = std::find_if(mine.begin(), mine.end(), [&](const auto& f) { return f.first == k; });
    if (it == mine.end())
      add(r + k + " is missing, rank 0 has " + fact.second);
    else if (it->second != fact.second)
      add(r + k + " is " + it->second + ", rank 0 has " + fact.second);
  }
  for (const auto& fact : mine) {
    const std::string& k = fact.first;
    if (std::none_of(root.begin(), root.end(), [&](const auto& f) { return f.first == k; }))
      add(r + k + " = " + fact.second + " is unknown to rank 0");
  }
  return d;
}

}  // namespace

void require_same_on_all_ranks(Communicator& comm, const Facts& facts) {
  std::string blob = serialize(facts);
  int64_t len = static_cast<int64_t>(blob.size());
  comm.broadcast(&len, sizeof len, 0);
  std::string root(static_cast<size_t>(len), '\0');
  if (comm.rank() == 0) root = blob;
  comm.broadcast(root.data(), len, 0);
  // Every rank's verdict, in a fixed-size record (long lists are cut, with a mark).
  constexpr size_t kRecord = 1024;
  std::string diff = differences(facts, parse(root), comm.rank());
  if (diff.size() >= kRecord) diff = diff.substr(0, kRecord - 4) + "...";
  std::vector<char> mine(kRecord, '\0'), all(kRecord * static_cast<size_t>(comm.size()), '\0');
  std::memcpy(mine.data(), diff.data(), diff.size());
  comm.allgather(mine.data(), static_cast<int64_t>(kRecord), all.data());
  std::string message;
  for (int r = 0; r < comm.size(); ++r) {
    const char* rec = all.data() + static_cast<size_t>(r) * kRecord;
    const std::string d(rec, strnlen(rec, kRecord));
    if (!d.empty()) message += (message.empty() ? "" : "; ") + d;
  }
  if (!message.empty())
    throw DistributedError("ranks were started with different configurations or data, refusing to train: " + message);
}

template <class T>
void broadcast_parameters(Communicator& comm, ParameterStore<T>& store, int root) {
  for (Parameter<T>* p : store.all()) {
    int64_t n = p->size();
    comm.broadcast(&n, sizeof n, root);
    if (n != p->size())
      throw DistributedError("broadcast_parameters: '" + p->name + "' has " + std::to_string(p->size()) +
                             " values here, " + std::to_string(n) + " on rank " + std::to_string(root));
    comm.broadcast(p->value.data(), n * static_cast<int64_t>(sizeof(T)), root);
  }
}

uint64_t fnv1a(const void* data, size_t bytes, uint64_t h) {
  const auto* b = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) {
    h ^= b[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

template <class T>
uint64_t checksum(const Parameter<T>& p) {
  return fnv1a(p.value.data(), p.value.size() * sizeof(T));
}

template <class T>
void check_parameters_agree(Communicator& comm, const ParameterStore<T>& store, int64_t step) {
  const auto params = store.all();
  std::vector<uint64_t> mine, all(params.size() * static_cast<size_t>(comm.size()));
  for (const Parameter<T>* p : params) mine.push_back(checksum(*p));
  comm.allgather(mine.data(), static_cast<int64_t>(mine.size() * sizeof(uint64_t)), all.data());
  for (int r = 1; r < comm.size(); ++r)
    for (size_t i = 0; i < params.size(); ++i)
      if (all[static_cast<size_t>(r) * params.size() + i] != all[i])
        throw DistributedError("parameters drifted apart after step " + std::to_string(step) + ": '" + params[i]->name +
                               "' differs between rank 0 and rank " + std::to_string(r) +
                               " (a rank applied a different update: check that every rank runs the same build, "
                               "data and flags)");
}

std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size)
    throw DistributedError("shard_range: rank " + std::to_string(rank) + " of " + std::to_string(size));
  const int64_t base = n / size, extra = n % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

template void broadcast_parameters(Communicator&, ParameterStore<float>&, int);
template void broadcast_parameters(Communicator&, ParameterStore<double>&, int);
template uint64_t checksum(const Parameter<float>&);
template uint64_t checksum(const Parameter<double>&);
template void check_parameters_agree(Communicator&, const ParameterStore<float>&, int64_t);
template void check_parameters_agree(Communicator&, const ParameterStore<double>&, int64_t);

}  // namespace reel::distributed
