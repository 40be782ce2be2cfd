#pragma once
/// \file
/// Decoding an EncoderDecoder (models/seq2seq.h): greedy and beam search, batched over sources of
/// different lengths, each sequence stopping at its own `</s>`. Neither records anything on the tape
/// (both run under NoGradGuard), so no gradient, and no graph, is kept.
///
/// \code
///   std::vector<Hypothesis> g = greedy_decode(model, tape, sources, 40);
///   auto beams = beam_search(model, tape, sources, BeamOptions{});   // beams[b][0]: source b's best
/// \endcode
///
/// Scores: log_prob is the sum of the chosen tokens' log-probabilities (`</s>` included when the
/// hypothesis ended); score = log_prob / length^length_penalty, length = tokens + 1 with `</s>` (GNMT's
/// simple form: 0 ranks by log_prob, 1 by the mean per token). Beam width 1 chooses what greedy
/// chooses, token for token.
#include <cstdint>
#include <vector>

#include "models/seq2seq.h"

namespace reel {

/// One decoded target.
struct Hypothesis {
  std::vector<int64_t> tokens;  ///< target ids, without bos and eos
  double log_prob = 0;  ///< sum of the tokens' (and `</s>`'s) log-probabilities
  double score = 0;  ///< log_prob / length^length_penalty (the file description)
  bool ended = false;  ///< it ended with `</s>` (false: cut at max_len)
};

/// How beam_search searches.
struct BeamOptions {
  int64_t width = 5;  ///< hypotheses kept per source, >= 1
  int64_t max_len = 50;  ///< decoder steps at most, >= 1: a hypothesis holds at most max_len tokens
  double length_penalty = 1.0;  ///< the exponent of the length normalisation, >= 0
};

/// The greedy target of every source: at each step the most likely token (ties: the lower id),
/// until `</s>` or max_len (>= 1) tokens. Scores as beam search's with length_penalty.
template <class T>
std::vector<Hypothesis> greedy_decode(const EncoderDecoder<T>& model, Tape<T>& tape, const SequenceBatch<T>& sources,
                                      int64_t max_len, double length_penalty = 1.0);

/// Up to width hypotheses per source, best score first (ties: found first). A source stops when
/// width hypotheses have ended; at max_len the ones still open are added, ended = false.
template <class T>
std::vector<std::vector<Hypothesis>> beam_search(const EncoderDecoder<T>& model, Tape<T>& tape, const SequenceBatch<T>& sources,
                                                 const BeamOptions& options = {});

/// log_prob / length^penalty for a hypothesis of `tokens` tokens (+1 for `</s>` when ended).
double length_normalized(double log_prob, int64_t tokens, bool ended, double penalty);

}  // namespace reel
