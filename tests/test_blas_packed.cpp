// blas::PackedB / gemm_packed: a packed op(B) gives the product blas::gemm gives (to rounding), for
// B and Bᵀ, beta 0 and 1, odd strides, batch sizes the packed layout was not made for, at 1 and 2
// threads and under every mode; the result is bitwise the same run to run; beta = 0 never reads C.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "framework/blas.h"
#include "framework/blas_packed.h"
#include "framework/error.h"
#include "framework/tape.h"
#include "models/sequence_runner.h"
#include "tests/gemm_test_util.h"

using namespace reel;
using namespace reel::testing;

namespace {


std::vector<float> run_packed(const Gemm& g, const blas::PackedB& p, bool nan_c = false) {
  std::vector<float> c = g.c0;
  if (nan_c) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
  blas::gemm_packed(g.m, g.a.data(), g.lda, p, g.beta, c.data(), g.ldc);
  return c;
}

// Bitwise equality (NaN in the padding equals itself).
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("gemm_packed equals gemm: B and its transpose, beta 0 and 1, odd strides, 1 and 2 threads, every mode",
          "[blas][packed]") {
  BlasState restore;
  Rng rng(31);
  struct Case {
    int64_t m, n, k;
  };
  // The recurrence's shapes, a width that is not a multiple of 64, narrow ones (OpenBLAS's class:
  // not packed under auto), and a batch of 1 and of 7 against the same packing.
  const std::vector<Case> cases = {{32, 128, 128}, {32, 512, 512}, {7, 300, 97}, {1, 256, 256},
                                   {32, 2048, 512}, {32, 10, 128}, {5, 40, 16},  {64, 1000, 97}};
  std::vector<blas::Mode> modes = {blas::Mode::automatic, blas::Mode::openblas};
  if (blas::onednn_available()) modes.push_back(blas::Mode::onednn);
  bool packed_seen = false;
  for (blas::Mode mode : modes)
    for (int threads : {1, 2}) {
      blas::set_mode(mode);
      blas::set_threads(threads);
      for (const Case& s : cases)
        for (int tb = 0; tb < 2; ++tb)
          for (float beta : {0.0f, 1.0f}) {
            const int64_t pad = 1 + (s.m + s.n + s.k) % 3;
            const Gemm g = make_gemm(rng, false, tb, s.m, s.n, s.k, pad, 1.0f, beta);
            blas::PackedB p;
            p.pack(tb, s.k, s.n, g.b.data(), g.ldb);
            packed_seen = packed_seen || p.packed();
            INFO("mode " << blas::name(mode) << " threads " << threads << (tb ? " T" : " N") << " m=" << s.m
                         << " n=" << s.n << " k=" << s.k << " beta=" << beta << " packed=" << p.packed());
            CHECK(p.holds(tb, s.k, s.n, g.b.data(), g.ldb));
            CHECK(p.packed() == (mode != blas::Mode::openblas && blas::onednn_available() && s.n > 32 && s.k > 32));
            const Reference ref = reference(g);
            const std::vector<float> got = run_packed(g, p, beta == 0.0f);
            CHECK(worst_error(g, ref, got, beta == 0.0f ? std::vector<float>(got.size(), std::numeric_limits<float>::quiet_NaN()) : g.c0) < 1e-6);
            // Bitwise the same on a second call and after repacking the same values.
            CHECK(same_bits(run_packed(g, p, beta == 0.0f), got));
            p.pack(tb, s.k, s.n, g.b.data(), g.ldb);
            CHECK(same_bits(run_packed(g, p, beta == 0.0f), got));
          }
    }
  if (blas::onednn_available()) CHECK(packed_seen);
}

TEST_CASE("a repacked PackedB follows B's new values; an unpacked one is a clear error", "[blas][packed]") {
  BlasState restore;
  blas::set_mode(blas::Mode::automatic);
  blas::set_threads(1);
  Rng rng(32);
  Gemm g = make_gemm(rng, false, false, 32, 256, 256, 0, 1.0f, 0.0f);
  blas::PackedB p;
  p.pack(false, 256, 256, g.b.data(), g.ldb);
  const std::vector<float> before = run_packed(g, p);
  for (float& v : g.b) v *= 2.0f;
  p.pack(false, 256, 256, g.b.data(), g.ldb);
  const std::vector<float> after = run_packed(g, p);
  for (size_t i = 0; i < before.size(); ++i) CHECK(after[i] == Approx(2.0f * before[i]).epsilon(1e-5).margin(1e-5));
  blas::PackedB empty;
  CHECK_FALSE(empty.holds(false, 256, 256, g.b.data(), g.ldb));
  float c = 0;
  CHECK_THROWS_WITH(blas::gemm_packed(1, g.a.data(), 256, empty, 0.0f, &c, 1), Catch::Contains("never packed"));
}

namespace {

// The final h of a float LSTM (hidden 64: its recurrent weight is packed) over a fixed input.
std::vector<float> lstm_final(SequenceRunner<float>& rnn, Tape<float>& tape) {
  const int64_t B = 4, Tn = 6, F = 40;
  std::vector<float> xv(static_cast<size_t>(B * Tn * F));
  Rng rx(41);
  for (float& v : xv) v = static_cast<float>(rx.normal());
  NoGradGuard<float> ng(tape);
  RunnerOutput<float> o = rnn.forward(tape, RunnerInput<float>::padded(tape.input(xv, Shape{B, Tn, F})));
  return o.final_states[0][0].to_vector();
}

}  // namespace

TEST_CASE("changed weights are never used stale: a tape that is not cleared repacks them", "[blas][packed]") {
  BlasState restore;
  blas::set_threads(1);
  for (blas::Mode mode : {blas::Mode::automatic, blas::Mode::openblas}) {
    blas::set_mode(mode);
    ParameterStore<float> store;
    Rng rng(40);
    RunnerConfig c;
    c.cell = "lstm";
    c.input_dim = 40;
    c.hidden_dim = 64;
    SequenceRunner<float> rnn(store, c, rng);
    Tape<float> tape;
    const std::vector<float> first = lstm_final(rnn, tape);
    CHECK(lstm_final(rnn, tape) == first);  // packed once, reused
    for (Parameter<float>* p : store.all())
      if (p->name.find("W_hh") != std::string::npos)
        for (float& v : p->value) v *= 0.5f;  // an optimizer step, with no clear() in between
    const std::vector<float> changed = lstm_final(rnn, tape);
    Tape<float> fresh;
    CHECK(changed == lstm_final(rnn, fresh));
    CHECK(changed != first);
  }
}

TEST_CASE("gemm_packed over more batch sizes than its primitive cache holds, at 2 threads", "[blas][packed]") {
  BlasState restore;
  blas::set_mode(blas::Mode::automatic);
  blas::set_threads(2);
  Rng rng(33);
  // Split in two column blocks (a primitive of each part's own: 2 cache entries per batch size);
  // 300 batch sizes overfill the per-thread cache of 512 entries, emptied only between calls.
  // Row i of C depends on row i of A alone: one reference serves every batch size.
  const Gemm big = make_gemm(rng, false, false, 300, 1024, 64, 0, 1.0f, 1.0f);
  const Reference ref = reference(big);
  blas::PackedB p;
  p.pack(false, 64, 1024, big.b.data(), big.ldb);
  double worst = 0;
  for (int64_t m = 1; m <= 300; ++m) {
    Gemm g = big;
    g.m = m;
    g.c0.resize(static_cast<size_t>(m * g.ldc));
    worst = std::max(worst, worst_error(g, ref, run_packed(g, p), g.c0));
  }
  CHECK(worst < 1e-6);
}
