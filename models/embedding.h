#pragma once
/// \file
/// The embedding table that turns token ids into the vectors a sequence model reads.
#include <string>
#include <vector>

#include "framework/ops.h"
#include "framework/rng.h"

namespace reel {

/// Embedding table (vocab, dim), initialised like torch.nn.Embedding: N(0, 1).
template <class T>
class Embedding {
 public:
  /// Registers `<prefix>.weight` (vocab, dim) in store, drawn from rng.
  Embedding(ParameterStore<T>& store, int64_t vocab, int64_t dim, Rng& rng, const std::string& prefix)
      : weight(store.add(prefix + ".weight", Shape{vocab, dim})) {
    for (T& v : weight.value) v = static_cast<T>(rng.normal());
  }
  /// ids of shape (N) or (B, T) -> (N, dim) or (B, T, dim)
  Var<T> forward(Tape<T>& tape, const std::vector<int64_t>& ids, const Shape& ids_shape) const {
    return embedding(tape.param(weight), ids, ids_shape);
  }

  Parameter<T>& weight;  ///< (vocab, dim): row i is token i's vector
};

}  // namespace reel
