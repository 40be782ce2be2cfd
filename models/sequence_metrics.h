#pragma once
/// \file
/// Error rates of decoded sequences against references: word error rate (a hypothesis is wrong
/// unless it equals one of its references exactly) and symbol error rate (Levenshtein distance to
/// the closest reference, summed, over the summed lengths of those references) — G2P's WER and PER.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace reel {

/// The Levenshtein distance between a and b (insertions, deletions, substitutions cost 1).
template <class S>
int64_t edit_distance(const std::vector<S>& a, const std::vector<S>& b) {
  std::vector<int64_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diag = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// Word and symbol error counts, accumulated hypothesis by hypothesis.
struct ErrorRates {
  int64_t words = 0;  ///< hypotheses scored
  int64_t word_errors = 0;  ///< hypotheses equal to none of their references
  int64_t edits = 0;  ///< edit distances to the closest reference, summed
  int64_t ref_symbols = 0;  ///< the closest references' lengths, summed

  /// Scores one hypothesis against its references (at least one). The closest reference is the
  /// one at the least edit distance (ties: the first).
  template <class S>
  void add(const std::vector<S>& hyp, const std::vector<std::vector<S>>& refs) {
    int64_t best = -1, best_len = 0;
    for (const auto& r : refs) {
      const int64_t d = edit_distance(hyp, r);
      if (best < 0 || d < best) best = d, best_len = static_cast<int64_t>(r.size());
    }
    ++words;
    word_errors += best != 0;
    edits += best;
    ref_symbols += best_len;
  }
  /// Word error rate, 0..1 (0 with no words).
  double wer() const { return words ? static_cast<double>(word_errors) / static_cast<double>(words) : 0.0; }
  /// Symbol (phoneme) error rate: edits / ref_symbols.
  double per() const { return ref_symbols ? static_cast<double>(edits) / static_cast<double>(ref_symbols) : 0.0; }
};

}  // namespace reel
