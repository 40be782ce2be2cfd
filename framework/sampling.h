#pragma once
/// \file
/// Choosing tokens from scores, outside the tape (no gradient flows through a choice): argmax and
/// categorical sampling with temperature and top-k, drawn from an explicit Rng (no global state).
///
/// \code
///   Rng rng(seed);
///   std::vector<int64_t> next = sample_rows(logits.data(), rows, vocab, rng, {0.8, 10});
///   std::vector<int64_t> best = argmax_rows(logits.data(), rows, vocab);
/// \endcode
#include <cstdint>
#include <utility>
#include <vector>

#include "framework/rng.h"

namespace reel {

/// How sample_rows draws: probabilities softmax(logits / temperature) restricted to the top_k
/// largest logits of the row (0: every entry), renormalised.
struct SamplingOptions {
  double temperature = 1.0;  ///< > 0; below 1 sharpens, above 1 flattens
  int64_t top_k = 0;  ///< 0: no restriction; else 1..cols (1 is argmax)
};

/// For each of `rows` rows of `cols` scores (row-major), the index of the largest; ties go to the
/// lowest index, NaN is a UsageError naming the row. UsageError unless rows >= 0 and cols >= 1.
template <class T>
std::vector<int64_t> argmax_rows(const T* scores, int64_t rows, int64_t cols);

/// For each row, an index drawn from the row's categorical distribution (SamplingOptions), one
/// uniform from rng per row in row order: the same rng state gives the same draws. Scores are
/// logits (any real values; -inf is probability 0), weighed in double. The kept entries (all, or
/// the top_k largest as top_k() picks them) are walked in index order, and the draw is the first
/// whose cumulative probability exceeds the row's uniform (inverse CDF). UsageError unless rows >= 0
/// and cols >= 1, on temperature <= 0 or NaN, top_k outside [0, cols], or a row with NaN, +inf or
/// no finite score; every row is checked before the first draw, so an error leaves rng untouched.
template <class T>
std::vector<int64_t> sample_rows(const T* logits, int64_t rows, int64_t cols, Rng& rng, const SamplingOptions& opt = {});

/// The k largest entries of one row of n scores, largest first, ties by lower index: (index, value).
/// UsageError unless 1 <= k <= n, or if a score is NaN.
template <class T>
std::vector<std::pair<int64_t, T>> top_k(const T* scores, int64_t n, int64_t k);

}  // namespace reel
