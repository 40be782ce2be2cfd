#pragma once
/// \file
/// The teacher-forced view of target sequences that the encoder-decoder and the generator train on.
#include <cstdint>
#include <vector>

#include "data/sequence_batch.h"

namespace reel {

/// The decoder's input [bos, y1 .. yn] and output [y1 .. yn, eos] ids (batch, max_len + 1), padded
/// with 0, and the lengths n + 1 — what loss() trains on.
struct ShiftedTargets {
  std::vector<int64_t> input;  ///< [bos, y1 .. yn], padded with 0
  std::vector<int64_t> output;  ///< [y1 .. yn, eos], padded with 0
  std::vector<int64_t> lengths;  ///< n + 1 per sequence
  int64_t steps = 0;  ///< max_len + 1
};
/// Builds ShiftedTargets for a target batch.
template <class T>
ShiftedTargets shift_targets(const SequenceBatch<T>& target, int64_t bos, int64_t eos);
/// (batch · steps) loss weights: 1 for t < lengths[b], 0 at padding.
template <class T>
std::vector<T> shifted_mask(const ShiftedTargets& s) {
  std::vector<T> mask(s.output.size(), T(0));
  for (size_t b = 0; b < s.lengths.size(); ++b)
    for (int64_t t = 0; t < s.lengths[b]; ++t) mask[b * static_cast<size_t>(s.steps) + static_cast<size_t>(t)] = T(1);
  return mask;
}

}  // namespace reel
