// Backward's gradient memory: intermediate gradient buffers are recycled once their producer has
// run (like PyTorch, which frees non-leaf gradients), leaves and retained nodes keep theirs, and
// the parameter gradients do not depend on the mode, bit for bit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "framework/ops.h"
#include "models/vanilla_rnn.h"
#include "rnn_test_util.h"

using namespace reel;

namespace {

using testing::config;
using testing::randv;

struct Run {
  std::vector<std::vector<float>> grads;  // every parameter's
  std::vector<float> dx;                  // the input leaf's
  TapeStats stats;
  bool h_mid_grad = false, h_kept_grad = false;
};

// forward_sequence over (B, T, I), loss = sum of the last hidden state, backward.
Run run(bool retain_all, int64_t Tn) {
  const int64_t B = 4, I = 3, H = 32;
  ParameterStore<float> store;
  Rng rng(5);
  VanillaRNN<float> rnn(store, config(I, H), rng);
  Tape<float> tape;
  tape.set_retain_grads(retain_all);
  Var<float> X = tape.input(randv<float>(static_cast<size_t>(B * Tn * I), 6), Shape{B, Tn, I}, true);
  auto seq = rnn.forward_sequence(tape, X);
  tape.retain_grad(seq.hidden_states[1]);
  tape.backward(sum(seq.final_hidden));
  Run r;
  for (const auto* p : store.all()) r.grads.push_back(p->grad);
  r.dx.assign(X.grad(), X.grad() + X.size());
  r.stats = tape.stats();
  r.h_mid_grad = seq.hidden_states[static_cast<size_t>(Tn / 2)].grad() != nullptr;
  r.h_kept_grad = seq.hidden_states[1].grad() != nullptr;
  return r;
}

}  // namespace

TEST_CASE("recycled gradient buffers give the same gradients, bit for bit", "[tape]") {
  const Run keep = run(true, 40), recycle = run(false, 40);
  REQUIRE(keep.grads.size() == recycle.grads.size());
  for (size_t i = 0; i < keep.grads.size(); ++i) {
    REQUIRE(keep.grads[i].size() == recycle.grads[i].size());
    CHECK(std::memcmp(keep.grads[i].data(), recycle.grads[i].data(), keep.grads[i].size() * sizeof(float)) == 0);
  }
  CHECK(std::memcmp(keep.dx.data(), recycle.dx.data(), keep.dx.size() * sizeof(float)) == 0);
}

TEST_CASE("intermediate gradients are released unless kept; leaves keep theirs", "[tape]") {
  const Run keep = run(true, 40), recycle = run(false, 40);
  CHECK(keep.h_mid_grad);
  CHECK_FALSE(recycle.h_mid_grad);  // like PyTorch: a non-leaf's .grad is None after backward
  CHECK(recycle.h_kept_grad);       // ... unless retain_grad() was called on it
  CHECK(keep.h_kept_grad);
}

TEST_CASE("backward's gradient memory does not grow with the sequence once buffers recycle", "[tape]") {
  // Keeping every node's gradient costs ~4 buffers of (B, H) per step; recycling keeps a few
  // steps' worth plus the buffers the whole sequence shares (the input projection's gradient).
  const Run keep40 = run(true, 40), keep80 = run(true, 80);
  const Run rec40 = run(false, 40), rec80 = run(false, 80);
  const size_t per_step_keep = (keep80.stats.grad_bytes - keep40.stats.grad_bytes) / 40;
  const size_t per_step_rec = (rec80.stats.grad_bytes - rec40.stats.grad_bytes) / 40;
  const size_t state = 4 * 32 * sizeof(float);
  CHECK(per_step_keep >= 4 * state);
  // What still grows with T: the projection's gradient (T, B, H) and the input's (T, B, I)
  // (the transposed copy of X feeding the projection GEMM).
  CHECK(per_step_rec <= state + 4 * 3 * sizeof(float) * 2 + 64);
  CHECK(rec80.stats.peak_bytes < keep80.stats.peak_bytes);
}

TEST_CASE("a tape that recycles gradients allocates nothing new in steady state", "[tape]") {
  const int64_t B = 4, Tn = 16, I = 3, H = 8;
  ParameterStore<float> store;
  Rng rng(2);
  VanillaRNN<float> rnn(store, config(I, H), rng);
  Tape<float> tape;
  const auto x = randv<float>(static_cast<size_t>(B * Tn * I), 3);
  size_t capacity = 0;
  for (int it = 0; it < 4; ++it) {
    tape.clear();
    Var<float> X = tape.input(x, Shape{B, Tn, I});
    tape.backward(sum(rnn.forward_sequence(tape, X).final_hidden));
    if (it == 1) capacity = tape.stats().capacity_bytes;
    if (it > 1) CHECK(tape.stats().capacity_bytes == capacity);
  }
}

TEST_CASE("pass-through gradients stay right when an input is used twice", "[tape]") {
  // y = sum(tanh(x + x) + x): the add's output gradient can move to one input only, and x's
  // gradient gathers three contributions, one of them through a moved buffer.
  Tape<double> tape;
  const std::vector<double> xv{0.3, -0.7, 1.1};
  Var<double> x = tape.input(xv, Shape{3}, true);
  Var<double> y = sum(add(tanh(add(x, x)), x));
  tape.backward(y);
  for (size_t i = 0; i < xv.size(); ++i) {
    const double t = std::tanh(2 * xv[i]);
    CHECK(x.grad()[i] == Approx(2 * (1 - t * t) + 1).epsilon(1e-14));
  }
}

TEST_CASE("a view of a view sees its root's gradient, and loses it with the root's buffer", "[tape]") {
  Tape<double> tape;
  Var<double> x = tape.input(std::vector<double>{1, 2, 3, 4, 5, 6}, Shape{6}, true);
  Var<double> y = scale(x, 2.0);                      // y's gradient is recycled after scale's backward
  Var<double> v1 = reshape(y, Shape{3, 2});
  Var<double> v2 = slice_rows(v1, 1, 3);              // a view of a view: rows 1..2 of y
  tape.backward(sum(v2));
  CHECK(v2.grad() == nullptr);                        // like y's: released
  CHECK(x.grad()[0] == 0.0);
  CHECK(x.grad()[2] == 2.0);

  Tape<double> keep;
  keep.set_retain_grads(true);
  Var<double> kx = keep.input(std::vector<double>{1, 2, 3, 4, 5, 6}, Shape{6}, true);
  Var<double> kv = slice_rows(reshape(scale(kx, 2.0), Shape{3, 2}), 1, 3);
  keep.backward(sum(kv));
  REQUIRE(kv.grad() != nullptr);
  CHECK(kv.grad()[0] == 1.0);
}
