#include "models/decoding.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "framework/ops.h"
#include "framework/sampling.h"

namespace reel {
namespace {

constexpr double kDead = -std::numeric_limits<double>::infinity();

// log Σ exp over one row, in double.
template <class T>
double log_sum_exp(const T* row, int64_t n) {
  double m = kDead;
  for (int64_t v = 0; v < n; ++v) m = std::max(m, static_cast<double>(row[v]));
  double s = 0;
  for (int64_t v = 0; v < n; ++v) s += std::exp(static_cast<double>(row[v]) - m);
  return m + std::log(s);
}

void check_options(const char* who, int64_t max_len, double penalty) {
  if (max_len < 1) throw UsageError(std::string(who) + ": max_len = " + std::to_string(max_len) + ", expected >= 1");
  if (!(penalty >= 0) || !std::isfinite(penalty))
    throw UsageError(std::string(who) + ": length_penalty = " + std::to_string(penalty) + ", expected a finite value >= 0");
}

// One beam's candidate continuation: parent beam j, token v, its cumulative log-probability.
struct Candidate {
  double log_prob;
  int64_t flat;  // j * V + v
};

// The search's state for one source.
struct SourceBeams {
  std::vector<std::vector<int64_t>> tokens;  // per beam
  std::vector<double> log_prob;              // per beam, kDead if the beam is not alive
  std::vector<Hypothesis> done;
  bool finished = false;
};

}  // namespace

double length_normalized(double log_prob, int64_t tokens, bool ended, double penalty) {
  const double len = static_cast<double>(tokens + (ended ? 1 : 0));
  return penalty == 0 || len == 0 ? log_prob : log_prob / std::pow(len, penalty);
}

template <class T>
std::vector<Hypothesis> greedy_decode(const EncoderDecoder<T>& model, Tape<T>& tape, const SequenceBatch<T>& sources,
                                      int64_t max_len, double length_penalty) {
  check_options("greedy_decode", max_len, length_penalty);
  NoGradGuard<T> no_grad(tape);
  const EncodedSource<T> enc = model.encode(tape, sources);
  const int64_t B = enc.batch, V = model.config().tgt_vocab, eos = model.config().eos;
  std::vector<Hypothesis> out(static_cast<size_t>(B));
  std::vector<int64_t> prev(static_cast<size_t>(B), model.config().bos);
  std::vector<CellState<T>> state;
  int64_t open = B;
  for (int64_t t = 0; t < max_len && open > 0; ++t) {
    DecoderStep<T> d = model.decode_step(tape, enc, prev, state);
    const T* logits = d.logits.data();
    prev = argmax_rows(logits, B, V);
    for (int64_t b = 0; b < B; ++b) {
      Hypothesis& h = out[static_cast<size_t>(b)];
      if (h.ended) continue;
      const T* row = logits + b * V;
      const int64_t v = prev[static_cast<size_t>(b)];
      h.log_prob += static_cast<double>(row[v]) - log_sum_exp(row, V);
      if (v == eos) {
        h.ended = true;
        --open;
      } else {
        h.tokens.push_back(v);
      }
    }
    state = std::move(d.state);
  }
  for (Hypothesis& h : out) h.score = length_normalized(h.log_prob, static_cast<int64_t>(h.tokens.size()), h.ended, length_penalty);
  return out;
}

// Extends source b's beams by one step from its k rows of logits; returns each new beam's parent.
template <class T>
static std::vector<int64_t> extend(SourceBeams& s, const T* logits, int64_t k, int64_t V, int64_t eos, double penalty) {
  std::vector<Candidate> cand;
  cand.reserve(static_cast<size_t>(k * V));
  for (int64_t j = 0; j < k; ++j) {
    const double base = s.log_prob[static_cast<size_t>(j)];
    if (base == kDead) continue;
    const T* row = logits + j * V;
    const double lse = log_sum_exp(row, V);
    for (int64_t v = 0; v < V; ++v) cand.push_back({base + (static_cast<double>(row[v]) - lse), j * V + v});
  }
  const size_t keep = std::min(cand.size(), static_cast<size_t>(2 * k));
  std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep), cand.end(), [](const Candidate& a, const Candidate& b) {
    return a.log_prob > b.log_prob || (a.log_prob == b.log_prob && a.flat < b.flat);
  });
  std::vector<std::vector<int64_t>> tokens;
  std::vector<double> log_prob;
  std::vector<int64_t> parent;
  for (size_t i = 0; i < keep && static_cast<int64_t>(tokens.size()) < k; ++i) {
    const int64_t j = cand[i].flat / V, v = cand[i].flat % V;
    const std::vector<int64_t>& hist = s.tokens[static_cast<size_t>(j)];
    if (v == eos) {
      if (static_cast<int64_t>(s.done.size()) < k)
        s.done.push_back({hist, cand[i].log_prob, length_normalized(cand[i].log_prob, static_cast<int64_t>(hist.size()), true, penalty), true});
      continue;
    }
    tokens.push_back(hist);
    tokens.back().push_back(v);
    log_prob.push_back(cand[i].log_prob);
    parent.push_back(j);
  }
  if (static_cast<int64_t>(s.done.size()) >= k) s.finished = true;
  while (static_cast<int64_t>(tokens.size()) < k) {
    tokens.emplace_back();
    log_prob.push_back(kDead);
    parent.push_back(0);
  }
  s.tokens = std::move(tokens);
  s.log_prob = std::move(log_prob);
  return parent;
}

// A finished source's beams stay dead; the open ones at max_len become unended hypotheses.
static std::vector<Hypothesis> results(SourceBeams& s, int64_t k, double penalty) {
  if (!s.finished)
    for (size_t j = 0; j < s.tokens.size() && static_cast<int64_t>(s.done.size()) < k; ++j)
      if (s.log_prob[j] != kDead)
        s.done.push_back({s.tokens[j], s.log_prob[j],
                          length_normalized(s.log_prob[j], static_cast<int64_t>(s.tokens[j].size()), false, penalty), false});
  std::stable_sort(s.done.begin(), s.done.end(), [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
  return std::move(s.done);
}

template <class T>
std::vector<std::vector<Hypothesis>> beam_search(const EncoderDecoder<T>& model, Tape<T>& tape, const SequenceBatch<T>& sources,
                                                 const BeamOptions& o) {
  check_options("beam_search", o.max_len, o.length_penalty);
  if (o.width < 1 || o.width > 4096) throw UsageError("beam_search: width = " + std::to_string(o.width) + ", expected 1..4096");
  NoGradGuard<T> no_grad(tape);
  const EncodedSource<T> enc0 = model.encode(tape, sources);
  const int64_t B = enc0.batch, k = o.width, V = model.config().tgt_vocab;
  std::vector<int64_t> rows(static_cast<size_t>(B * k));
  for (int64_t r = 0; r < B * k; ++r) rows[static_cast<size_t>(r)] = r / k;
  const EncodedSource<T> enc = enc0.select(rows);
  std::vector<SourceBeams> beams(static_cast<size_t>(B));
  for (SourceBeams& s : beams) {
    s.tokens.assign(static_cast<size_t>(k), {});
    s.log_prob.assign(static_cast<size_t>(k), kDead);
    s.log_prob[0] = 0;  // one live beam at the start: the others would repeat it
  }
  std::vector<int64_t> prev(static_cast<size_t>(B * k), model.config().bos);
  std::vector<CellState<T>> state = enc.init;
  for (int64_t t = 0; t < o.max_len; ++t) {
    DecoderStep<T> d = model.decode_step(tape, enc, prev, state);
    for (int64_t r = 0; r < B * k; ++r) rows[static_cast<size_t>(r)] = r;  // finished sources' rows stay put
    bool open = false;
    for (int64_t b = 0; b < B; ++b) {
      SourceBeams& s = beams[static_cast<size_t>(b)];
      if (s.finished) continue;
      const std::vector<int64_t> parent = extend(s, d.logits.data() + b * k * V, k, V, model.config().eos, o.length_penalty);
      for (int64_t j = 0; j < k; ++j) {
        rows[static_cast<size_t>(b * k + j)] = b * k + parent[static_cast<size_t>(j)];
        const auto& tok = s.tokens[static_cast<size_t>(j)];
        prev[static_cast<size_t>(b * k + j)] = tok.empty() ? model.config().bos : tok.back();
      }
      open = open || !s.finished;
    }
    if (!open) break;
    state = select_states(d.state, rows);
  }
  std::vector<std::vector<Hypothesis>> out;
  out.reserve(static_cast<size_t>(B));
  for (SourceBeams& s : beams) out.push_back(results(s, k, o.length_penalty));
  return out;
}

#define REEL_DECODING_INSTANTIATE(T)                                                                                     \
  template std::vector<Hypothesis> greedy_decode(const EncoderDecoder<T>&, Tape<T>&, const SequenceBatch<T>&, int64_t, \
                                                 double);                                                               \
  template std::vector<std::vector<Hypothesis>> beam_search(const EncoderDecoder<T>&, Tape<T>&, const SequenceBatch<T>&, \
                                                            const BeamOptions&);
REEL_DECODING_INSTANTIATE(float)
REEL_DECODING_INSTANTIATE(double)

}  // namespace reel
