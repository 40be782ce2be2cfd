// Argmax, top-k and categorical sampling over rows of scores, outside the tape.
#include "framework/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "framework/error.h"

namespace reel {
namespace {

void check_matrix(const char* op, const void* scores, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 1)
    throw UsageError(std::string(op) + ": needs rows >= 0 and cols >= 1, got " + std::to_string(rows) + " x " +
                     std::to_string(cols));
  if (rows > 0 && !scores) throw UsageError(std::string(op) + ": null scores for " + std::to_string(rows) + " rows");
}

// The order of top_k: larger value first, ties by lower index (a strict weak order: no NaN).
template <class T>
struct ByValueThenIndex {
  const T* v;
  bool operator()(int64_t a, int64_t b) const { return v[a] > v[b] || (v[a] == v[b] && a < b); }
};

// idx[0..k) := the k largest of row[0..n) in ByValueThenIndex order (idx holds n slots).
template <class T>
void select_top(const T* row, int64_t n, int64_t k, int64_t* idx) {
  for (int64_t j = 0; j < n; ++j) idx[j] = j;
  std::partial_sort(idx, idx + k, idx + n, ByValueThenIndex<T>{row});
}

}  // namespace

template <class T>
std::vector<int64_t> argmax_rows(const T* scores, int64_t rows, int64_t cols) {
  check_matrix("argmax_rows", scores, rows, cols);
  std::vector<int64_t> out(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    const T* row = scores + i * cols;
    int64_t best = 0;
    for (int64_t j = 0; j < cols; ++j) {
      if (std::isnan(row[j]))
        throw UsageError("argmax_rows: NaN at row " + std::to_string(i) + ", column " + std::to_string(j));
      if (row[j] > row[best]) best = j;  // strict: a tie keeps the lower index
    }
    out[static_cast<size_t>(i)] = best;
  }
  return out;
}

template <class T>
std::vector<int64_t> sample_rows(const T* logits, int64_t rows, int64_t cols, Rng& rng, const SamplingOptions& opt) {
  check_matrix("sample_rows", logits, rows, cols);
  if (!(opt.temperature > 0))  // also NaN
    throw UsageError("sample_rows: temperature must be > 0, got " + std::to_string(opt.temperature));
  if (opt.top_k < 0 || opt.top_k > cols)
    throw UsageError("sample_rows: top_k must be in [0, " + std::to_string(cols) + "] (0: every entry), got " +
                     std::to_string(opt.top_k));
  // Every row is checked before the first draw: an error leaves rng where it was.
  for (int64_t i = 0; i < rows; ++i) {
    const T* row = logits + i * cols;
    bool finite = false;
    for (int64_t j = 0; j < cols; ++j) {
      if (std::isnan(row[j]) || row[j] == std::numeric_limits<T>::infinity())
        throw UsageError("sample_rows: " + std::string(std::isnan(row[j]) ? "NaN" : "+inf") + " logit at row " +
                         std::to_string(i) + ", column " + std::to_string(j));
      finite = finite || std::isfinite(row[j]);
    }
    if (!finite) throw UsageError("sample_rows: row " + std::to_string(i) + " has no finite logit (all -inf)");
  }
  const int64_t k = opt.top_k == 0 ? cols : opt.top_k;
  const bool limited = k < cols;
  std::vector<int64_t> out(static_cast<size_t>(rows));
  std::vector<int64_t> idx(limited ? static_cast<size_t>(cols) : 0);  // work buffers, one per call
  std::vector<double> w(static_cast<size_t>(k));
  for (int64_t i = 0; i < rows; ++i) {
    const T* row = logits + i * cols;
    // The kept entries, in index order: all of them, or the top k (ties by lower index) sorted back.
    const int64_t* kept = nullptr;
    if (limited) {
      select_top(row, cols, k, idx.data());
      std::sort(idx.begin(), idx.begin() + k);
      kept = idx.data();
    }
    auto at = [&](int64_t q) { return kept ? kept[q] : q; };
    // p ∝ w_q = exp((x_q - mx) / temperature) over the kept entries, in double; mx is finite
    // (checked above, and the top k hold the row's largest), -inf has weight 0.
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t q = 0; q < k; ++q) mx = std::max(mx, static_cast<double>(row[at(q)]));
    double z = 0;
    for (int64_t q = 0; q < k; ++q) {
      const double x = static_cast<double>(row[at(q)]);
      w[static_cast<size_t>(q)] = std::isinf(x) ? 0.0 : std::exp((x - mx) / opt.temperature);
      z += w[static_cast<size_t>(q)];
    }
    // Inverse CDF: the first kept entry whose cumulative weight exceeds u·z. Strictly exceeds, so
    // a zero-weight entry is never chosen; should rounding run past the end, the last positive one.
    const double target = rng.uniform() * z;  // exactly one draw per row
    double cum = 0;
    int64_t pick = -1, last_positive = -1;
    for (int64_t q = 0; q < k && pick < 0; ++q) {
      const double wq = w[static_cast<size_t>(q)];
      if (wq > 0) last_positive = at(q);
      cum += wq;
      if (cum > target) pick = at(q);
    }
    out[static_cast<size_t>(i)] = pick >= 0 ? pick : last_positive;
  }
  return out;
}

template <class T>
std::vector<std::pair<int64_t, T>> top_k(const T* scores, int64_t n, int64_t k) {
  if (n < 1 || k < 1 || k > n)
    throw UsageError("top_k: needs 1 <= k <= n, got k = " + std::to_string(k) + ", n = " + std::to_string(n));
  if (!scores) throw UsageError("top_k: null scores");
  for (int64_t j = 0; j < n; ++j)
    if (std::isnan(scores[j])) throw UsageError("top_k: NaN at index " + std::to_string(j));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  select_top(scores, n, k, idx.data());
  std::vector<std::pair<int64_t, T>> out(static_cast<size_t>(k));
  for (int64_t q = 0; q < k; ++q) out[static_cast<size_t>(q)] = {idx[static_cast<size_t>(q)], scores[idx[static_cast<size_t>(q)]]};
  return out;
}

#define REEL_INSTANTIATE(T)                                                                              \
  template std::vector<int64_t> argmax_rows(const T*, int64_t, int64_t);                                 \
  template std::vector<int64_t> sample_rows(const T*, int64_t, int64_t, Rng&, const SamplingOptions&); \
  template std::vector<std::pair<int64_t, T>> top_k(const T*, int64_t, int64_t);
REEL_INSTANTIATE(float)
REEL_INSTANTIATE(double)
#undef REEL_INSTANTIATE

}  // namespace reel
