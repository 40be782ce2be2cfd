// The GEMM backends behind blas::gemm: oneDNN and OpenBLAS agree on random matrices in every
// transpose combination with odd strides (1 and 2 threads, reel's pool splitting large calls), beta = 0
// never reads C, the modes parse and force, and training is bitwise reproducible run to run with
// each backend at a fixed thread count (test_blas.cpp: both backends' workers flush denormals). Tests needing oneDNN are
// skipped (with a note) in a build without it. The fixtures' suite runs again under REEL_GEMM=onednn
// and REEL_GEMM=openblas (tests/CMakeLists.txt); "[gemm-env]" checks that the variable took effect.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "framework/blas.h"
#include "framework/blas_detail.h"
#include "framework/error.h"
#include "framework/ops.h"
#include "framework/optim/optimizer.h"
#include "framework/rng.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"
#include "tests/gemm_test_util.h"

using namespace reel;
using namespace reel::testing;

namespace {


struct Shape3 {
  int64_t m, n, k;
};

}  // namespace

TEST_CASE("REEL_GEMM values parse; anything else is a clear error", "[blas][backend]") {
  CHECK(blas::parse_mode("auto") == blas::Mode::automatic);
  CHECK(blas::parse_mode("openblas") == blas::Mode::openblas);
  CHECK(blas::parse_mode("onednn") == blas::Mode::onednn);
  for (const char* bad : {"", "OneDNN", "mkl", "auto "}) {
    try {
      blas::parse_mode(bad);
      FAIL("accepted '" << bad << "'");
    } catch (const UsageError& e) {
      const std::string what = e.what();
      CHECK(what.find("REEL_GEMM must be auto, openblas or onednn") != std::string::npos);
      CHECK(what.find(std::string("'") + bad + "'") != std::string::npos);
    }
  }
  CHECK(std::string(blas::name(blas::Mode::automatic)) == "auto");
  CHECK(std::string(blas::name(blas::Backend::onednn)) == "onednn");
}

TEST_CASE("the mode in force is the one REEL_GEMM names", "[blas][backend][gemm-env]") {
  const char* env = std::getenv("REEL_GEMM");
  const blas::Mode want = env && *env ? blas::parse_mode(env) : blas::Mode::automatic;
  CHECK(blas::mode() == want);
  // A forced mode sends every float call to its backend, whatever the shape.
  for (const Shape3 s : {Shape3{1, 1, 1}, Shape3{32, 10, 128}, Shape3{32, 512, 512}, Shape3{3200, 256, 100}}) {
    if (want == blas::Mode::onednn) CHECK(blas::backend_for(false, false, s.m, s.n, s.k) == blas::Backend::onednn);
    if (want == blas::Mode::openblas) CHECK(blas::backend_for(false, false, s.m, s.n, s.k) == blas::Backend::openblas);
  }
  const std::string d = blas::describe();
  CHECK(d.find(std::string("gemm=") + blas::name(want)) != std::string::npos);
  CHECK(d.find("core=") != std::string::npos);
  CHECK(d.find("threads=") != std::string::npos);
  if (blas::onednn_available()) CHECK(d.find("oneDNN 2.") != std::string::npos);
}

TEST_CASE("the automatic rule is a fixed function of the shape", "[blas][backend]") {
  // Same shape, same answer, every time; and a kernel that lags the CPU hands every call to oneDNN.
  for (int64_t n : {10, 128, 256, 1024})
    for (int64_t k : {10, 128, 1024}) {
      const blas::Backend once = blas::auto_backend(false, false, 32, n, k, 1);
      for (int rep = 0; rep < 3; ++rep) CHECK(blas::auto_backend(false, false, 32, n, k, 1) == once);
      CHECK(blas::auto_backend(false, false, 32, n, k, 1, /*openblas_kernel_lags=*/true) == blas::Backend::onednn);
    }
  CHECK_FALSE(blas::auto_rule().empty());
  // The measured classes: the recurrent products go to oneDNN, the heads' narrow ones to OpenBLAS.
  CHECK(blas::auto_backend(false, false, 32, 512, 512, 1) == blas::Backend::onednn);
  CHECK(blas::auto_backend(false, false, 32, 10, 512, 1) == blas::Backend::openblas);
  CHECK(blas::auto_backend(true, false, 512, 10, 32, 2) == blas::Backend::openblas);
  CHECK(blas::auto_backend(false, false, 32, 512, 10, 2) == blas::Backend::openblas);
  // At 2 threads OpenBLAS keeps only the narrow calls it runs on one thread (its workers would spin).
  CHECK(blas::auto_backend(false, false, 32, 10, 1024, 1) == blas::Backend::openblas);
  CHECK(blas::auto_backend(false, false, 32, 10, 1024, 2) == blas::Backend::onednn);  // m·n·k 327,680
  CHECK(blas::auto_backend(false, false, 128, 256, 256, 2) == blas::Backend::onednn);
}

TEST_CASE("oneDNN and OpenBLAS agree on random matrices: every transpose, odd strides, 1 and 2 threads",
          "[blas][backend]") {
  if (!blas::onednn_available()) {
    WARN("built without oneDNN (REEL_WITH_ONEDNN=OFF): nothing to compare");
    return;
  }
  BlasState restore;
  Rng rng(13);
  // Small and odd shapes, the RNN's shape classes, and calls large enough that the pool splits them
  // at 2 threads along columns (n >= m) or rows (m > n).
  const std::vector<Shape3> shapes = {{1, 1, 1},   {1, 7, 3},     {5, 1, 9},     {3, 4, 1},     {37, 53, 29},
                                      {32, 10, 128}, {32, 128, 128}, {17, 300, 31}, {64, 513, 300}, {1001, 90, 97},
                                      {96, 1000, 97}};
  REQUIRE(blas::detail::onednn_parts(96, 1000, 97, 2) == 2);  // split along columns
  REQUIRE(blas::detail::onednn_parts(1001, 90, 97, 2) == 2);  // and along rows
  for (int threads : {1, 2}) {
    blas::set_threads(threads);
    bool split_seen = false;
    for (const Shape3& s : shapes)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
          const int64_t pad = 1 + (s.m + s.n + s.k) % 5;  // 1..5 extra floats per row
          const float alpha = ta ? -0.75f : 1.0f, beta = tb ? 0.5f : 0.0f;
          const Gemm g = make_gemm(rng, ta, tb, s.m, s.n, s.k, pad, alpha, beta);
          split_seen = split_seen || blas::detail::onednn_parts(s.m, s.n, s.k, threads) > 1;
          const std::vector<float> ob = run(g, blas::Mode::openblas), dn = run(g, blas::Mode::onednn);
          INFO("threads " << threads << (ta ? " T" : " N") << (tb ? "T" : "N") << " m=" << s.m << " n=" << s.n
                          << " k=" << s.k << " pad=" << pad << " alpha=" << alpha << " beta=" << beta);
          const Reference ref = reference(g);
          CHECK(worst_error(g, ref, ob, g.c0) < 1e-6);
          CHECK(worst_error(g, ref, dn, g.c0) < 1e-6);
          CHECK(worst_error(g, ref, dn, g.c0, &ob) < 2e-6);  // and with each other, element by element
          if (beta == 0) {  // C is not read: NaN there must not leak into the result
            const std::vector<float> nan_c = run(g, blas::Mode::onednn, /*nan_c=*/true);
            const std::vector<float> nan_init(g.c0.size(), std::numeric_limits<float>::quiet_NaN());
            CHECK(worst_error(g, ref, nan_c, nan_init) < 1e-6);
          }
        }
    if (threads == 2) CHECK(split_seen);  // the pool's blocks were exercised
  }
}

namespace {

// A float LSTM classifier trained for a few Adam steps; all parameter values after training.
std::vector<float> train_lstm(int threads, blas::Mode mode) {
  blas::set_threads(threads);
  blas::set_mode(mode);
  SequenceModelConfig cfg;
  cfg.input_dim = 24;
  cfg.hidden_dim = 256;  // recurrent product (32 x 256)·(256 x 1024): split by the pool at 2 threads
  cfg.num_classes = 5;
  cfg.cell = "lstm";
  ParameterStore<float> store;
  Rng rng(5);
  SequenceClassifier<float> model(store, cfg, rng);
  SequenceBatch<float> batch;
  batch.batch = 32;
  batch.max_len = 6;
  batch.features = cfg.input_dim;
  batch.values.resize(static_cast<size_t>(batch.batch * batch.max_len * batch.features));
  for (float& v : batch.values) v = static_cast<float>(rng.normal());
  std::vector<int64_t> labels;
  for (int64_t b = 0; b < batch.batch; ++b) {
    batch.lengths.push_back(2 + b % 5);
    labels.push_back(b % cfg.num_classes);
  }
  AdamOptions ao;
  ao.lr = 0.01;
  Adam<float> adam(store.all(), ao);
  TrainerOptions to;
  to.clip_norm = 1.0;
  Trainer<float> trainer(store, adam, to);
  Tape<float> tape;
  for (int s = 0; s < 3; ++s)
    trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, model.logits(t, batch), labels); });
  std::vector<float> out;
  for (auto* p : store.all()) out.insert(out.end(), p->value.begin(), p->value.end());
  return out;
}

}  // namespace

TEST_CASE("training is bitwise reproducible run to run with each backend at a fixed thread count",
          "[blas][backend][determinism]") {
  BlasState restore;
  std::vector<blas::Mode> modes = {blas::Mode::openblas, blas::Mode::automatic};
  if (blas::onednn_available()) {
    modes.push_back(blas::Mode::onednn);
    REQUIRE(blas::detail::onednn_parts(32, 1024, 256, 2) == 2);
  }
  for (blas::Mode mode : modes)
    for (int threads : {1, 2}) {
      INFO(blas::name(mode) << ", " << threads << " thread(s)");
      const std::vector<float> first = train_lstm(threads, mode);
      const std::vector<float> second = train_lstm(threads, mode);
      REQUIRE(first.size() == second.size());
      CHECK(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)) == 0);
    }
}
