#include "framework/memory/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "framework/error.h"

namespace reel::memory {

const char* plan_kind_name(PlanKind k) {
  switch (k) {
    case PlanKind::Full: return "full";
    case PlanKind::Uniform: return "uniform";
    case PlanKind::Binomial: return "binomial";
  }
  return "?";
}

int64_t Plan::longest_chunk() const {
  int64_t l = 0;
  for (size_t i = 1; i < bounds.size(); ++i) l = std::max(l, bounds[i] - bounds[i - 1]);
  return l;
}

std::string Plan::describe() const {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%s: %lld chunks (longest %lld steps), %lld slots, %lld snapshots held, %lld steps recomputed, "
                "peak %.2f MB (tape %.2f MB, snapshots %.2f MB)",
                plan_kind_name(kind), static_cast<long long>(chunks()), static_cast<long long>(longest_chunk()),
                static_cast<long long>(slots), static_cast<long long>(snapshots),
                static_cast<long long>(recomputed_steps), peak_bytes / 1e6, tape_peak_bytes / 1e6,
                snapshot_peak_bytes / 1e6);
  return buf;
}

int64_t default_segment(int64_t steps) {
  auto k = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(std::max<int64_t>(steps, 1)))));
  while (k * k < steps) ++k;
  while (k > 1 && (k - 1) * (k - 1) >= steps) --k;
  return k;
}

int64_t binomial_advances(int64_t n, int64_t slots) {
  if (n <= 1) return 0;
  if (slots < 0) throw UsageError("binomial_advances: negative slot count");
  const int64_t c = slots + 1;  // Griewank & Walther count the stored start as a snapshot
  // beta(c, r) = C(c + r, r): the most steps reversible with c snapshots and r repetitions.
  int64_t r = 0;
  double beta = 1;
  while (beta < static_cast<double>(n)) {
    ++r;
    beta = beta * static_cast<double>(c + r) / static_cast<double>(r);
  }
  // C(c + r, c + 1) = beta(c, r) · r / (c + 1)
  const double b2 = std::round(beta * static_cast<double>(r) / static_cast<double>(c + 1));
  return r * n - static_cast<int64_t>(b2);
}

namespace {

PlanKind kind_of(int64_t chunks, int64_t slots) {
  if (chunks <= 1) return PlanKind::Full;
  return slots >= chunks - 1 ? PlanKind::Uniform : PlanKind::Binomial;
}

struct Builder {
  const std::vector<int64_t>& bounds;
  std::vector<int64_t> rows;  // rows[i]: Σ batch sizes of chunks [0, i)
  std::vector<Action>& out;

  void emit(Action::Kind k, int64_t b, int64_t e) { out.push_back(Action{k, b, e}); }
  double est(int64_t i, int64_t j, int64_t s) const {
    const int64_t n = j - i;
    if (n <= 1) return 0;
    return static_cast<double>(binomial_advances(n, s)) * static_cast<double>(rows[j] - rows[i]) / static_cast<double>(n);
  }
  int64_t split(int64_t i, int64_t j, int64_t s) const {
    int64_t best = 1;
    double best_cost = std::numeric_limits<double>::infinity();
    for (int64_t m = 1; m < j - i; ++m) {
      const double c = static_cast<double>(rows[i + m] - rows[i]) + est(i + m, j, s - 1) + est(i, i + m, s);
      if (c < best_cost) best_cost = c, best = m;
    }
    return best;
  }
  // Reverse chunks [i, j) with s free slots; the state entering chunk i is stored.
  void reverse(int64_t i, int64_t j, int64_t s) {
    while (true) {
      const int64_t n = j - i;
      if (n == 1) {
        emit(Action::Reverse, bounds[i], bounds[j]);
        return;
      }
      if (s >= n - 1) {  // uniform: store every boundary, then reverse from the last chunk
        if (n > 1) emit(Action::Advance, bounds[i], bounds[i + 1]);
        for (int64_t c = i + 1; c < j; ++c) {
          emit(Action::Snapshot, bounds[c], bounds[c]);
          if (c + 1 < j) emit(Action::Advance, bounds[c], bounds[c + 1]);
        }
        for (int64_t c = j - 1; c >= i; --c) {
          emit(Action::Reverse, bounds[c], bounds[c + 1]);
          if (c > i) emit(Action::Drop, bounds[c], bounds[c]);
        }
        return;
      }
      if (s == 0) {
        for (int64_t c = j - 1; c >= i; --c) {
          if (c > i) emit(Action::Advance, bounds[i], bounds[c]);
          emit(Action::Reverse, bounds[c], bounds[c + 1]);
        }
        return;
      }
      const int64_t m = split(i, j, s);
      emit(Action::Advance, bounds[i], bounds[i + m]);
      emit(Action::Snapshot, bounds[i + m], bounds[i + m]);
      reverse(i + m, j, s - 1);
      emit(Action::Drop, bounds[i + m], bounds[i + m]);
      j = i + m;
    }
  }
};

// Chunks cut from the end: each takes steps backwards while its recorded bytes stay within limit.
std::vector<int64_t> cut_from_end(const std::vector<size_t>& prefix, size_t limit) {
  const int64_t T = static_cast<int64_t>(prefix.size()) - 1;
  std::vector<int64_t> rev{T};
  int64_t e = T;
  while (e > 0) {
    // smallest b with prefix[e] - prefix[b] <= limit, at least one step
    auto it = std::lower_bound(prefix.begin(), prefix.begin() + e, prefix[static_cast<size_t>(e)] > limit
                                                                        ? prefix[static_cast<size_t>(e)] - limit
                                                                        : 0);
    int64_t b = static_cast<int64_t>(it - prefix.begin());
    if (b >= e) b = e - 1;
    rev.push_back(b);
    e = b;
  }
  return std::vector<int64_t>(rev.rbegin(), rev.rend());
}

}  // namespace

void simulate(const MemoryModel& m, Plan& plan) {
  const int64_t T = m.steps();
  std::vector<std::pair<int64_t, size_t>> stack{{0, m.snapshot(0)}};
  size_t stack_bytes = m.snapshot(0);
  const size_t host = m.host_buffers();
  plan.snapshots = plan.recomputed_steps = plan.recomputed_rows = 0;
  plan.peak_bytes = plan.tape_peak_bytes = 0;
  plan.snapshot_peak_bytes = stack_bytes;
  auto observe = [&](size_t tape) {
    plan.tape_peak_bytes = std::max(plan.tape_peak_bytes, tape);
    plan.peak_bytes = std::max(plan.peak_bytes, stack_bytes + host + tape);
  };
  for (const Action& a : plan.actions) {
    switch (a.kind) {
      case Action::Advance: {
        // a chunk at a time: the state copied in, then the chunk's steps' values
        auto c = std::upper_bound(plan.bounds.begin(), plan.bounds.end(), a.begin) - 1;
        for (; *c < a.end; ++c) {
          size_t values = m.scope_overhead(*c);  // the state copied in, the model's scratch
          for (int64_t t = *c; t < *(c + 1); ++t) {
            values += m.advance_step(t);
            plan.recomputed_rows += m.rows(t);
          }
          observe(values);
        }
        plan.recomputed_steps += a.end - a.begin;
        break;
      }
      case Action::Snapshot:
        stack.emplace_back(a.begin, m.snapshot(a.begin));
        stack_bytes += stack.back().second;
        plan.snapshots = std::max<int64_t>(plan.snapshots, static_cast<int64_t>(stack.size()) - 1);
        plan.snapshot_peak_bytes = std::max(plan.snapshot_peak_bytes, stack_bytes);
        break;
      case Action::Drop:
        if (stack.size() < 2 || stack.back().first != a.begin) throw UsageError("simulate: drop of a state not on top");
        stack_bytes -= stack.back().second;
        stack.pop_back();
        break;
      case Action::Reverse: {
        const int64_t terms = m.loss_terms(a.begin, a.end);
        bool pieces = false;
        for (int64_t t = a.begin; t < a.end && m.final_loss; ++t) pieces = pieces || m.next_rows(t) < m.rows(t);
        const bool root = terms > 0 || a.end < T || pieces;
        const Bytes s = m.scope(a.begin, a.end, a.begin > 0, false, root, terms, a.end < T);
        if (a.end == T && m.final_loss) {  // the loss head runs while the last chunk's values are held
          const Bytes s0 = m.scope(a.begin, a.end, a.begin > 0, false, false, 0, a.end < T);
          plan.tape_peak_bytes = std::max(plan.tape_peak_bytes, m.head_tape());
          plan.peak_bytes = std::max(plan.peak_bytes, stack_bytes + host + s0.values + m.head_tape());
        }
        observe(s.total());
        break;
      }
    }
  }
}

Plan plan_chunks(const MemoryModel& m, std::vector<int64_t> bounds, int64_t slots) {
  const int64_t T = m.steps();
  if (T <= 0) throw UsageError("plan: the model has no steps");
  if (bounds.size() < 2 || bounds.front() != 0 || bounds.back() != T)
    throw UsageError("plan: chunk bounds must run from 0 to " + std::to_string(T));
  for (size_t i = 1; i < bounds.size(); ++i)
    if (bounds[i] <= bounds[i - 1]) throw UsageError("plan: chunk bounds must increase");
  Plan p;
  p.bounds = std::move(bounds);
  const int64_t n = p.chunks();
  p.slots = std::clamp<int64_t>(slots, 0, n - 1);
  p.kind = kind_of(n, p.slots);
  Builder b{p.bounds, std::vector<int64_t>(static_cast<size_t>(n + 1), 0), p.actions};
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = 0;
    for (int64_t t = p.bounds[i]; t < p.bounds[i + 1]; ++t) r += m.rows(t);
    b.rows[static_cast<size_t>(i + 1)] = b.rows[static_cast<size_t>(i)] + r;
  }
  b.reverse(0, n, p.slots);
  simulate(m, p);
  return p;
}

namespace {
std::vector<int64_t> cut_steps(int64_t T, int64_t k) {
  std::vector<int64_t> rev{T};
  for (int64_t e = T; e > 0; e -= k) rev.push_back(std::max<int64_t>(e - k, 0));
  return std::vector<int64_t>(rev.rbegin(), rev.rend());
}
}  // namespace

Plan plan_uniform(const MemoryModel& m, int64_t k) {
  const int64_t T = m.steps();
  if (k <= 0) k = default_segment(T);
  const std::vector<int64_t> bounds = cut_steps(T, std::min(k, T));
  return plan_chunks(m, bounds, static_cast<int64_t>(bounds.size()));
}

Plan plan_binomial(const MemoryModel& m, int64_t slots, int64_t chunk) {
  if (chunk < 1) throw UsageError("plan_binomial: chunk must be >= 1 step");
  return plan_chunks(m, cut_steps(m.steps(), std::min(chunk, m.steps())), slots);
}

Plan plan_for_budget(const MemoryModel& m, size_t budget) {
  const int64_t T = m.steps();
  if (T <= 0) throw UsageError("plan_for_budget: the model has no steps");
  // Per-step recorded bytes (exact: a step's bytes do not depend on its chunk) and prefix sums.
  std::vector<size_t> pv(static_cast<size_t>(T) + 1, 0), pg(pv), prefix(pv);
  std::vector<int64_t> rows_prefix(static_cast<size_t>(T) + 1, 0);
  size_t step_max = 0;
  for (int64_t t = 0; t < T; ++t) {
    const Bytes b = m.recorded_step(t, true);
    const auto i = static_cast<size_t>(t);
    pv[i + 1] = pv[i] + b.values;
    pg[i + 1] = pg[i] + b.grads;
    prefix[i + 1] = prefix[i] + b.total();
    rows_prefix[i + 1] = rows_prefix[i] + m.rows(t);
    step_max = std::max(step_max, b.total());
  }
  const size_t host = m.host_buffers(), head = m.head_tape();
  // A chunk's tape: leaf, steps, root (as simulate() counts them); `values_only` for the moment
  // the loss head runs beside the last chunk.
  auto chunk_bytes = [&](int64_t b, int64_t e, bool values_only) {
    const Bytes leaf = m.scope(b, b, b > 0, false, false, 0);
    bool pieces = false;  // a view: no bytes, but it makes a root
    for (int64_t t = e - 1; t >= b && m.final_loss && !pieces; --t) pieces = m.next_rows(t) < m.rows(t);
    const int64_t terms = m.loss_terms(b, e);
    const bool root = !values_only && (terms > 0 || e < T || pieces);
    const size_t steps = values_only ? pv[static_cast<size_t>(e)] - pv[static_cast<size_t>(b)]
                                     : prefix[static_cast<size_t>(e)] - prefix[static_cast<size_t>(b)];
    return (values_only ? leaf.values : leaf.total()) + steps + (root ? m.alloc(terms) + 2 * m.alloc(1) : 0);
  };
  struct Candidate {
    double cost;
    size_t need;
    std::vector<int64_t> bounds;
    int64_t slots;
  };
  std::vector<Candidate> cands;
  size_t smallest = std::numeric_limits<size_t>::max();
  for (int64_t k = 1; k <= T; k = k < 4096 ? k + 1 : k + k / 64) {
    std::vector<int64_t> bounds = cut_from_end(prefix, static_cast<size_t>(k) * step_max);
    const int64_t n = static_cast<int64_t>(bounds.size()) - 1;
    // Uniform (every boundary stored): exact peak, reached while reversing some chunk c with the
    // states entering chunks 0..c stored.
    size_t uniform_peak = 0, stack = 0, chunk_max = 0;
    for (int64_t c = 0; c < n; ++c) {
      stack += m.snapshot(bounds[c]);
      size_t tape = chunk_bytes(bounds[c], bounds[c + 1], false);
      if (c == n - 1 && m.final_loss) tape = std::max(tape, chunk_bytes(bounds[c], T, true) + head);
      chunk_max = std::max(chunk_max, tape);
      uniform_peak = std::max(uniform_peak, host + stack + tape);
    }
    smallest = std::min(smallest, host + chunk_max + m.snapshot(0));
    const double total_rows = static_cast<double>(rows_prefix.back());
    if (uniform_peak <= budget) {
      cands.push_back({static_cast<double>(rows_prefix[static_cast<size_t>(bounds[n - 1])]), uniform_peak,
                       std::move(bounds), n - 1});
      continue;
    }
    // Binomial: as many slots as the largest states (the earliest) allow beside the largest chunk.
    int64_t fit = 0;
    size_t snaps = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (host + chunk_max + snaps + m.snapshot(bounds[i]) > budget) break;
      snaps += m.snapshot(bounds[i]);
      ++fit;
    }
    if (fit == 0) continue;
    const int64_t slots = std::min(fit - 1, n - 1);
    const double cost = static_cast<double>(binomial_advances(n, slots)) * total_rows / static_cast<double>(n);
    cands.push_back({cost, host + chunk_max + snaps, std::move(bounds), slots});
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    return a.cost != b.cost ? a.cost < b.cost : a.need < b.need;
  });
  for (const Candidate& c : cands) {
    Plan p = plan_chunks(m, c.bounds, c.slots);
    if (p.peak_bytes <= budget) return p;
  }
  throw UsageError("plan_for_budget: no schedule fits " + std::to_string(budget) + " bytes (the smallest needs about " +
                   std::to_string(smallest) + ")");
}

}  // namespace reel::memory
