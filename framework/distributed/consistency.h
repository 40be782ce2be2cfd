#pragma once
/// \file
/// Keeping ranks in step: the same start (configuration checked, parameters broadcast from rank 0),
/// the same data split (shard), and a cheap check that parameters have not drifted apart.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "framework/distributed/communicator.h"
#include "framework/parameter.h"

namespace reel::distributed {

/// What a rank must agree on with rank 0 before training: name -> value (model configuration,
/// data sizes and fingerprints, global batch, seed...). Every rank throws DistributedError naming
/// each rank and fact that differs, e.g. "rank 1: hidden_dim is 64, rank 0 has 128".
using Facts = std::vector<std::pair<std::string, std::string>>;
/// Checks that every rank holds rank 0's facts (see Facts); collective.
void require_same_on_all_ranks(Communicator& comm, const Facts& facts);

/// Every parameter's value (and shape) from root to every rank.
template <class T>
void broadcast_parameters(Communicator& comm, ParameterStore<T>& store, int root = 0);

/// One 64-bit hash (FNV-1a) of a parameter's bytes.
template <class T>
uint64_t checksum(const Parameter<T>& p);

/// Throws DistributedError naming the first parameter whose value differs between ranks (one
/// allgather of one hash per parameter: cheap enough for every few hundred steps).
template <class T>
void check_parameters_agree(Communicator& comm, const ParameterStore<T>& store, int64_t step);

/// The part [begin, end) of n items that rank takes of size ranks: contiguous, in rank order, the
/// first n % size ranks one item more. Rank r of N with the global batch cut this way sees the same
/// examples as rows of a one-process batch of the whole global batch.
std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size);
/// items[shard_range(items.size(), rank, size)]: this rank's contiguous part.
template <class I>
std::vector<I> shard(const std::vector<I>& items, int rank, int size) {
  const auto [b, e] = shard_range(static_cast<int64_t>(items.size()), rank, size);
  return std::vector<I>(items.begin() + b, items.begin() + e);
}

/// A 64-bit FNV-1a hash of bytes (data fingerprints for require_same_on_all_ranks).
uint64_t fnv1a(const void* data, size_t bytes, uint64_t h = 0xcbf29ce484222325ULL);

}  // namespace reel::distributed
