// Checkpointing plans: the binomial count against a brute-force optimum, plans that reverse every
// chunk once from stored states, uniform segments, budget plans that fit and recompute no more
// than needed, real per-step sizes for packed batches, and the dry run at B=32, hidden 512, T=5000.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <vector>

#include "framework/error.h"
#include "framework/memory/schedule.h"

using namespace reel;
using namespace reel::memory;

namespace {

// Brute force: the fewest advances reversing n chunks with s free slots (state at the start stored).
int64_t best_advances(int64_t n, int64_t s, std::map<std::pair<int64_t, int64_t>, int64_t>& memo) {
  if (n <= 1) return 0;
  if (s == 0) return n * (n - 1) / 2;
  auto key = std::make_pair(n, s);
  if (auto it = memo.find(key); it != memo.end()) return it->second;
  int64_t best = -1;
  for (int64_t m = 1; m < n; ++m) {
    const int64_t c = m + best_advances(n - m, s - 1, memo) + best_advances(m, s, memo);
    if (best < 0 || c < best) best = c;
  }
  return memo[key] = best;
}

MemoryModel small_model(int64_t steps, int64_t batch = 4) {
  return MemoryModel::dense(batch, steps, 3, 8, classifier_cost(8, 5), false, true);
}

// Replays the actions abstractly: states must be available where used, every chunk is reversed
// exactly once, last chunk first.
void check_actions(const Plan& p) {
  std::vector<int64_t> stack{0};
  int64_t cur = 0, expect_end = p.steps();
  std::vector<int64_t> reversed;
  for (const Action& a : p.actions) {
    const bool stored = std::find(stack.begin(), stack.end(), a.begin) != stack.end();
    switch (a.kind) {
      case Action::Advance:
        REQUIRE((cur == a.begin || stored));
        cur = a.end;
        break;
      case Action::Snapshot:
        REQUIRE(cur == a.begin);
        stack.push_back(a.begin);
        REQUIRE(static_cast<int64_t>(stack.size()) - 1 <= p.slots);
        break;
      case Action::Drop:
        REQUIRE(stack.back() == a.begin);
        stack.pop_back();
        break;
      case Action::Reverse:
        REQUIRE((cur == a.begin || stored));
        REQUIRE(a.end == expect_end);
        expect_end = a.begin;
        reversed.push_back(a.begin);
        break;
    }
  }
  CHECK(expect_end == 0);
  CHECK(static_cast<int64_t>(reversed.size()) == p.chunks());
}

}  // namespace

TEST_CASE("binomial_advances is Griewank & Walther's optimum", "[memory]") {
  std::map<std::pair<int64_t, int64_t>, int64_t> memo;
  for (int64_t n = 1; n <= 40; ++n)
    for (int64_t s = 0; s <= 6; ++s) {
      INFO("n " << n << ", slots " << s);
      CHECK(binomial_advances(n, s) == best_advances(n, s, memo));
    }
  CHECK(binomial_advances(5000, 4999) == 4999);  // a slot per boundary: each chunk advanced once
  CHECK(binomial_advances(10, 0) == 45);
}

TEST_CASE("binomial plans reach the optimum and replay correctly", "[memory]") {
  for (int64_t T : {1, 2, 7, 20, 33}) {
    const MemoryModel m = small_model(T);
    for (int64_t s : {0, 1, 2, 3, 5}) {
      const Plan p = plan_binomial(m, s);
      INFO("T " << T << ", " << p.describe());
      check_actions(p);
      CHECK(p.recomputed_steps == binomial_advances(T, std::min<int64_t>(s, T - 1)));
      CHECK(p.snapshots <= p.slots);
      CHECK(p.kind == (T == 1 ? PlanKind::Full : s >= T - 1 ? PlanKind::Uniform : PlanKind::Binomial));
    }
  }
  // chunks of several steps
  const Plan p = plan_binomial(small_model(30), 2, 4);
  check_actions(p);
  CHECK(p.chunks() == 8);
  CHECK(p.bounds[1] == 2);  // cut from the end: the first chunk takes the remainder
}

TEST_CASE("uniform segments: k = ceil(sqrt(T)), every boundary stored, the last segment never recomputed", "[memory]") {
  CHECK(default_segment(5000) == 71);
  CHECK(default_segment(100) == 10);
  CHECK(default_segment(101) == 11);
  for (int64_t T : {1, 9, 10, 50, 101}) {
    const MemoryModel m = small_model(T);
    const Plan p = plan_uniform(m);
    const int64_t k = default_segment(T);
    INFO("T " << T << ", " << p.describe());
    check_actions(p);
    CHECK(p.longest_chunk() == std::min(k, T));
    CHECK(p.bounds[p.bounds.size() - 2] == T - std::min(k, T));
    CHECK(p.snapshots == p.chunks() - 1);
    CHECK(p.recomputed_steps == T - std::min(k, T));
  }
  const Plan full = plan_uniform(small_model(12), 12);
  CHECK(full.kind == PlanKind::Full);
  CHECK(full.recomputed_steps == 0);
  CHECK(full.peak_bytes > plan_uniform(small_model(12), 3).peak_bytes);
}

TEST_CASE("budget plans fit, and recompute less as the budget grows", "[memory]") {
  const MemoryModel m = small_model(60);
  const Plan full = plan_uniform(m, 60);
  const Plan tight = plan_binomial(m, 1);
  CHECK(plan_for_budget(m, full.peak_bytes).recomputed_steps == 0);
  CHECK_THROWS_AS(plan_for_budget(m, tight.peak_bytes / 4), UsageError);
  int64_t last = -1;
  for (size_t budget = tight.peak_bytes; budget <= full.peak_bytes; budget += (full.peak_bytes - tight.peak_bytes) / 40) {
    const Plan p = plan_for_budget(m, budget);
    INFO("budget " << budget << ": " << p.describe());
    check_actions(p);
    CHECK(p.peak_bytes <= budget);
    CHECK(p.recomputed_steps <= tight.recomputed_steps);
    if (last >= 0) CHECK(p.recomputed_rows <= last);
    last = p.recomputed_rows;
  }
}

TEST_CASE("packed batches: the planner uses the real per-step sizes", "[memory]") {
  // 32 sequences of lengths 1..32: step t computes 32 - t rows.
  MemoryModel m = small_model(32, 32);
  for (int64_t t = 0; t < 32; ++t) m.batch_sizes[static_cast<size_t>(t)] = 32 - t;
  const Plan uniform = plan_uniform(small_model(32, 32), 4);
  const Plan p = plan_for_budget(m, uniform.peak_bytes / 2);
  INFO(p.describe());
  check_actions(p);
  CHECK(p.peak_bytes <= uniform.peak_bytes / 2);
  // Later steps are cheaper, so chunks grow towards the end.
  CHECK(p.bounds.back() - p.bounds[p.bounds.size() - 2] > p.bounds[1] - p.bounds[0]);
  CHECK(p.recomputed_rows < p.recomputed_steps * 32);
  CHECK(m.snapshot(31) < m.snapshot(1));
}

TEST_CASE("the dry run at B=32, hidden 512, T=5000: sqrt(T) segments keep under a tenth, a 1/50 budget fits", "[memory]") {
  const MemoryModel m = MemoryModel::dense(32, 5000, 2, 512, regression_cost(1), false, true);
  const size_t full = m.full_bptt();
  CHECK(full > hidden_state_bytes(32, 5000, 512));  // the tape keeps more than the hidden states
  const Plan uniform = plan_uniform(m);
  CHECK(uniform.longest_chunk() == 71);
  CHECK(uniform.peak_bytes * 10 <= full);
  const Plan budget = plan_for_budget(m, full / 50);
  INFO(budget.describe());
  CHECK(budget.peak_bytes <= full / 50);
  CHECK(budget.recomputed_steps <= uniform.recomputed_steps);
  const Plan tiny = plan_for_budget(m, full / 500);  // below what uniform segments can do
  INFO(tiny.describe());
  CHECK(tiny.kind == PlanKind::Binomial);
  CHECK(tiny.peak_bytes <= full / 500);
}
