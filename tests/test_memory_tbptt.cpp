// Truncated BPTT: one window covering the sequence is full BPTT (bitwise); the carried state makes
// a later window's hidden states those of the full forward; no gradient crosses a window boundary
// (a window's gradients are those of the window alone, started from the carried state as a
// constant); k2 < k1 records only the last k2 steps; Trainer and by-hand loops agree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "framework/memory/accounting.h"
#include "models/memory_problems.h"
#include "framework/memory/tbptt.h"
#include "framework/optim/optimizer.h"

using namespace reel;
using namespace reel::memory;

namespace {

constexpr int64_t kFeat = 3, kHidden = 5, kClasses = 3;

SequenceBatch<float> make_batch(const std::vector<int64_t>& lengths, uint64_t seed) {
  Rng rng(seed);
  SequenceBatch<float> b;
  b.batch = static_cast<int64_t>(lengths.size());
  b.max_len = *std::max_element(lengths.begin(), lengths.end());
  b.features = kFeat;
  b.lengths = lengths;
  b.values.resize(static_cast<size_t>(b.batch * b.max_len * kFeat));
  for (float& v : b.values) v = static_cast<float>(2 * rng.uniform() - 1);
  return b;
}

std::vector<int64_t> random_ints(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<int64_t> v(n);
  for (auto& x : v) x = static_cast<int64_t>(rng.below(kClasses));
  return v;
}

SequenceModelConfig cfg(const char* act = "tanh", const char* cell = "rnn", int64_t layers = 1) {
  SequenceModelConfig c;
  c.cell = cell;
  c.num_layers = layers;
  c.input_dim = kFeat;
  c.hidden_dim = kHidden;
  c.num_classes = kClasses;
  c.activation = act;
  return c;
}

std::vector<std::vector<float>> grads_of(ParameterStore<float>& s) {
  std::vector<std::vector<float>> g;
  for (auto* p : s.all()) g.push_back(p->grad);
  return g;
}
bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  for (size_t k = 0; k < a.size(); ++k)
    if (std::memcmp(a[k].data(), b[k].data(), a[k].size() * sizeof(float)) != 0) return false;
  return true;
}
bool any_nonzero(const std::vector<std::vector<float>>& g) {
  for (auto& v : g)
    for (float x : v)
      if (x != 0) return true;
  return false;
}

// Steps [b, e) of a full-length problem on their own, from h0 (the window without its past).
SequenceProblem<float> window_alone(const SequenceProblem<float>& p, int64_t b, int64_t e, std::vector<float> h0) {
  SequenceProblem<float> w = p;
  w.batch_sizes.assign(p.batch_sizes.begin() + b, p.batch_sizes.begin() + e);
  w.input = [in = p.input, b](Tape<float>& t, int64_t s) { return in(t, s + b); };
  if (p.step_loss) {
    w.step_loss = [f = p.step_loss, b](Tape<float>& t, int64_t s, const Var<float>& h) {
      return f(t, s + b, h);
    };
    w.step_counts.assign(p.step_counts.begin() + b, p.step_counts.begin() + e);
  }
  if (e < p.steps()) w.final_loss = nullptr;
  w.h0 = std::move(h0);
  return w;
}

}  // namespace

TEST_CASE("TBPTT with one window covering the sequence is full BPTT, bitwise", "[memory]") {
  const SequenceBatch<float> b = make_batch({9, 4, 9, 2, 7}, 1);
  for (int kind = 0; kind < 2; ++kind) {
    ParameterStore<float> store;
    Rng rng(2);
    SequenceClassifier<float> cls(store, cfg(kind ? "relu" : "tanh"), rng);
    ParameterStore<float> store2;
    Rng rng2(3);
    SequenceTagger<float> tag(store2, cfg(kind ? "relu" : "tanh"), rng2);
    for (auto [st, p] : {std::make_pair(&store, classifier_problem(cls, b, random_ints(5, 4))),
                         std::make_pair(&store2, tagger_problem(tag, b, random_ints(45, 5)))}) {
      Tape<float> tape;
      st->zero_grad();
      Var<float> full = record_full(tape, p);
      tape.backward(full);
      const float full_loss = full.item();
      const auto want = grads_of(*st);
      for (int64_t k : {9, 50}) {
        TruncatedBPTT<float> tb(p, {k, 0});
        REQUIRE(tb.windows() == 1);
        st->zero_grad();
        Var<float> loss = tb.record_window(tape);
        tape.backward(loss);
        CHECK(std::memcmp(&full_loss, &loss.data()[0], sizeof(float)) == 0);
        CHECK(same_bits(grads_of(*st), want));
        CHECK(tb.done());
      }
    }
  }
}

TEST_CASE("TBPTT with one window covering the sequence is full BPTT, bitwise, for every cell", "[memory][cells]") {
  const SequenceBatch<float> b = make_batch({9, 4, 9, 2, 7}, 11);
  for (const char* cell : {"lstm", "gru"})
    for (int64_t layers : {1, 2}) {
      INFO(cell << " x" << layers);
      ParameterStore<float> store;
      Rng rng(12);
      SequenceTagger<float> tag(store, cfg("tanh", cell, layers), rng);
      const SequenceProblem<float> p = tagger_problem(tag, b, random_ints(45, 13));
      Tape<float> tape;
      Var<float> full = record_full(tape, p);
      tape.backward(full);
      const float full_loss = full.item();
      const auto want = grads_of(store);
      TruncatedBPTT<float> tb(p, {50, 0});
      store.zero_grad();
      Var<float> loss = tb.record_window(tape);
      tape.backward(loss);
      CHECK(std::memcmp(&full_loss, &loss.data()[0], sizeof(float)) == 0);
      CHECK(same_bits(grads_of(store), want));
      CHECK(any_nonzero(want));
    }
}

TEST_CASE("TBPTT and checkpointing refuse a bidirectional model, saying why", "[memory][cells]") {
  const SequenceBatch<float> b = make_batch({5, 3}, 14);
  SequenceModelConfig c = cfg("tanh", "lstm", 1);
  c.bidirectional = true;
  ParameterStore<float> store;
  Rng rng(15);
  SequenceTagger<float> tag(store, c, rng);
  CHECK_THROWS_WITH(tagger_problem(tag, b, random_ints(10, 16)),
                    Catch::Contains("bidirectional") && Catch::Contains("full BPTT"));
}

TEST_CASE("TBPTT carries the state: window 2's hidden states are the full forward's", "[memory]") {
  const SequenceBatch<float> b = make_batch({12, 12, 12}, 6);
  ParameterStore<float> store;
  Rng rng(7);
  SequenceTagger<float> model(store, cfg(), rng);
  const SequenceProblem<float> p = tagger_problem(model, b, random_ints(36, 8));
  Tape<float> full_tape, tape;
  const Scope<float> full = record_scope(full_tape, p, 0, 12, static_cast<const float*>(nullptr), false);
  for (int64_t k2 : {4, 2}) {
    TruncatedBPTT<float> tb(p, {4, k2});
    tb.record_window(tape);
    tb.record_window(tape);  // window 2: steps [4, 8)
    const Scope<float>& sc = tb.scope();
    REQUIRE(sc.begin == 8 - k2);
    for (size_t i = 0; i < sc.h.size(); ++i) {
      const Var<float>& want = full.h[static_cast<size_t>(sc.begin) + i];
      CHECK(std::memcmp(sc.h[i].data(), want.data(), static_cast<size_t>(want.size()) * sizeof(float)) == 0);
    }
    const Var<float>& last = full.h[7];
    CHECK(std::memcmp(tb.state().data(), last.data(), static_cast<size_t>(last.size()) * sizeof(float)) == 0);
    // Resuming from the carried state (as from a checkpoint) continues identically.
    TruncatedBPTT<float> resumed(p, {4, k2});
    resumed.restore(2, tb.state());
    Tape<float> t2;
    const float a = tb.record_window(tape).item(), b2 = resumed.record_window(t2).item();
    CHECK(std::memcmp(&a, &b2, sizeof a) == 0);
  }
}

TEST_CASE("TBPTT: no gradient crosses a window boundary", "[memory]") {
  const SequenceBatch<float> b = make_batch({12, 12, 12, 12}, 9);
  ParameterStore<float> store;
  Rng rng(10);
  SequenceTagger<float> model(store, cfg(), rng);
  const SequenceProblem<float> p = tagger_problem(model, b, random_ints(48, 11));
  Tape<float> tape, alone_tape;
  for (int64_t k2 : {5, 3}) {
    TruncatedBPTT<float> tb(p, {5, k2});  // windows [0,5), [5,10), [10,12)
    REQUIRE(tb.windows() == 3);
    for (int64_t w = 0; w < tb.windows(); ++w) {
      const int64_t rb = tb.recorded_begin(w), e = tb.window_end(w);
      // The window alone: its recorded steps from the state entering them, as a constant.
      std::vector<float> h_in = tb.state();
      if (rb > tb.window_begin(w)) {
        Tape<float> scratch;
        advance(scratch, p, tb.window_begin(w), rb, h_in);
      }
      store.zero_grad();
      Var<float> loss = tb.record_window(tape);
      tape.backward(loss);
      const auto got = grads_of(store);
      CHECK(any_nonzero(got));
      // Nothing from an earlier step is on the tape, and the carried state takes no gradient.
      for (const Record<float>& r : tape.records())
        CHECK((tape.node(r.out).step >= rb || r.out == loss.id()));  // the root sits outside any step
      CHECK_FALSE(tb.scope().h_start.requires_grad());
      std::set<int32_t> steps;
      for (const Record<float>& r : tape.records()) steps.insert(tape.node(r.out).step);
      CHECK(static_cast<int64_t>(steps.size()) == e - rb + 1);  // + the root, outside any step

      store.zero_grad();
      alone_tape.clear();
      Var<float> alone = record_full(alone_tape, window_alone(p, rb, e, h_in));
      alone_tape.backward(alone);
      INFO("window " << w << ", k2 " << k2);
      CHECK(same_bits(got, grads_of(store)));
    }
  }
}

TEST_CASE("TBPTT trains with the Trainer and by hand alike; windows without a loss only advance", "[memory]") {
  const SequenceBatch<float> b = make_batch({10, 7, 10}, 12);
  for (int kind = 0; kind < 2; ++kind) {
    std::vector<std::vector<float>> params[2];
    for (int run = 0; run < 2; ++run) {
      ParameterStore<float> store;
      Rng rng(13);
      SequenceClassifier<float> cls(store, cfg(), rng);
      Rng rng2(13);
      ParameterStore<float> store2;
      SequenceTagger<float> tag(store2, cfg(), rng2);
      ParameterStore<float>& st = kind ? store2 : store;
      SequenceProblem<float> p = kind ? tagger_problem(tag, b, random_ints(30, 14)) : classifier_problem(cls, b, random_ints(3, 15));
      SGDOptions so;
      so.lr = 0.05;
      SGD<float> sgd(st.all(), so);
      Tape<float> tape;
      TruncatedBPTT<float> tb(p, {4, 3});
      if (run == 0) {
        Trainer<float> trainer(st, sgd);
        const auto results = tb.train(trainer, tape);
        CHECK(static_cast<int64_t>(results.size()) == (kind ? 3 : 1));  // the classifier's loss is in the last window
        CHECK(sgd.steps() == static_cast<int64_t>(results.size()));
      } else {
        while (!tb.done()) {
          if (!tb.has_loss(tb.next_window())) {
            tb.skip_window(tape);
            continue;
          }
          st.zero_grad();
          Var<float> loss = tb.record_window(tape);
          tape.backward(loss);
          sgd.step();
        }
      }
      for (auto* q : st.all()) params[run].push_back(q->value);
    }
    CHECK(same_bits(params[0], params[1]));
  }
  ParameterStore<float> store;
  Rng rng(16);
  SequenceTagger<float> tag(store, cfg(), rng);
  const SequenceProblem<float> p = tagger_problem(tag, b, random_ints(30, 17));
  CHECK_THROWS_AS(TruncatedBPTT<float>(p, {3, 4}), UsageError);
  CHECK_THROWS_AS(TruncatedBPTT<float>(p, {0, 0}), UsageError);
}

TEST_CASE("memory_breakdown splits a tape's bytes by op kind", "[memory]") {
  const SequenceBatch<float> b = make_batch({6, 3}, 18);
  ParameterStore<float> store;
  Rng rng(19);
  SequenceClassifier<float> model(store, cfg(), rng);
  const SequenceProblem<float> p = classifier_problem(model, b, random_ints(2, 20));
  Tape<float> tape;
  tape.set_retain_grads(true);  // gradients by op kind: keep every node's
  tape.backward(record_full(tape, p));
  const MemoryBreakdown m = memory_breakdown(tape);
  size_t values = m.scratch_values, grads = 0;
  for (const KindBytes& k : m.by_kind) values += k.values, grads += k.grads;
  CHECK(values == m.stats.value_bytes);
  CHECK(grads == m.stats.grad_bytes);
  CHECK(m.by_kind[static_cast<size_t>(OpKind::MatMul)].values > 0);
  CHECK(m.by_kind[static_cast<size_t>(OpKind::SliceRows)].values == 0);  // views
  CHECK(m.table().find("matmul") != std::string::npos);
  CHECK(m.json().front() == '{');
  CHECK(m.stats.peak_bytes == memory_model(p).full_bptt());
}

TEST_CASE("TBPTT state() is rows_into(window_begin(next)) x hidden: the running sequences' rows", "[memory]") {
  // Packed: 4 sequences of lengths 12, 9, 5, 2 lose rows as they end (batch_sizes 4,4,3,3,3,2,...,1).
  const SequenceBatch<float> b = make_batch({12, 9, 5, 2}, 21);
  ParameterStore<float> store;
  Rng rng(22);
  SequenceTagger<float> model(store, cfg(), rng);
  const SequenceProblem<float> p = tagger_problem(model, b, random_ints(4 * 12, 23));
  REQUIRE(p.batch() == 4);
  REQUIRE(p.batch_sizes.back() == 1);
  Tape<float> full_tape, tape, t2;
  const Scope<float> full = record_scope(full_tape, p, 0, p.steps(), static_cast<const float*>(nullptr), false);
  for (int64_t k2 : {4, 2}) {
    TruncatedBPTT<float> tb(p, {4, k2});  // windows [0,4), [4,8), [8,12)
    REQUIRE(tb.windows() == 3);
    CHECK(tb.state().size() == static_cast<size_t>(p.batch() * kHidden));  // h0: every row
    for (int64_t w = 0; w < tb.windows(); ++w) {
      INFO("window " << w << ", k2 " << k2);
      if (w == 1)
        tb.skip_window(tape);  // the unrecorded path carries the same rows
      else
        tb.record_window(tape);
      const int64_t next_begin = tb.window_begin(tb.next_window());
      const int64_t rows = p.rows_into(next_begin);
      CHECK(rows == p.batch_sizes[static_cast<size_t>(next_begin - 1)]);
      REQUIRE(tb.state().size() == static_cast<size_t>(rows * kHidden));
      // ... holding exactly the full forward's state after step next_begin - 1.
      const Var<float>& want = full.h[static_cast<size_t>(next_begin - 1)];
      REQUIRE(want.size() == rows * kHidden);
      CHECK(std::memcmp(tb.state().data(), want.data(), static_cast<size_t>(want.size()) * sizeof(float)) == 0);
    }
    CHECK(tb.state().size() == static_cast<size_t>(kHidden));  // one sequence reaches the end
  }
  // state() is what restore() takes: resuming at window 2 continues identically.
  TruncatedBPTT<float> tb(p, {4, 4}), resumed(p, {4, 4});
  tb.record_window(tape);
  tb.record_window(tape);
  REQUIRE(tb.state().size() == static_cast<size_t>(p.rows_into(8) * kHidden));
  REQUIRE(p.rows_into(8) < p.batch());
  resumed.restore(2, tb.state(), tb.finals());
  CHECK(resumed.state() == tb.state());
  const float a = tb.record_window(tape).item(), c = resumed.record_window(t2).item();
  CHECK(std::memcmp(&a, &c, sizeof a) == 0);
  // A batch x hidden state (an older checkpoint's) is cut to its live rows.
  std::vector<float> padded(static_cast<size_t>(p.batch() * kHidden), 0.5f);
  resumed.restore(1, padded);
  CHECK(resumed.state().size() == static_cast<size_t>(p.rows_into(4) * kHidden));
}
