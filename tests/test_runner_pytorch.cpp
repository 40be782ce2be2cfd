// reel's SequenceRunner against torch.nn.RNN / nn.LSTM / nn.GRU(batch_first=True), from the
// fixtures tools/make_runner_fixtures.py wrote to tests/fixtures/runner/ (committed: no torch needed).
//
// For every fixture (T = double for *_f64, float for *_f32) the same weights, X, lengths and h0
// [c0] go through SequenceRunner<T> in several layouts:
//   padded           RunnerInput::padded(X, lengths), the initial states given
//   packed           X gathered into PyTorch's PackedSequence rows (make_pack_info: sorted by length,
//                    stable, time-major) with sorted_indices; the output is packed rows, compared
//                    with the reference's rows of real tokens; final states come back in batch order
//   */unfused        the same with tape.set_fusion(false)
//   padded/default   cases whose h0 is zero: no initial states and no lengths given (the defaults)
// and L = sum(output ⊙ R) + sum(h_n ⊙ Rh) [+ sum(c_n ⊙ Rc)] is built on the tape. The output,
// h_n [c_n], the loss, every parameter's gradient, dL/dX and dL/dh0 [dL/dc0] must agree with
// PyTorch, with test_rnn_pytorch.cpp's error measure:
//     err_i = |got_i - ref_i| / max(|ref_i|, floor),   floor = max(1e-6, 1e-2 * max_j |ref_j|)
// Required: max err <= 1e-9 in float64, <= 1e-4 in float32. REEL_FIXTURE_REPORT=1 prints them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "data/batching.h"
#include "fixture_compare.h"
#include "fixture_io.h"
#include "framework/ops.h"
#include "models/sequence_runner.h"

using namespace reel;
using reel::testing::check_close;
using reel::testing::Worst;

namespace {

const std::string kRunnerFixtureDir = std::string(REEL_SOURCE_DIR) + "/tests/fixtures/runner";


struct Case {
  RunnerConfig cfg;
  int64_t B = 0, Tn = 0, S = 1;  // S: tensors per state (2 for an LSTM)
  std::vector<int64_t> lengths;
  bool zero_h0 = false;
  int64_t K() const { return cfg.num_layers * cfg.directions(); }  // states: layers·D
};

Case read_case(const fixture::Fixture& fx) {
  Case c;
  c.cfg.cell = fx.meta_str("cell");
  c.cfg.activation = fx.meta_str("activation");
  c.cfg.num_layers = fx.meta_int("num_layers");
  c.cfg.bidirectional = fx.meta_int("bidirectional") != 0;
  c.cfg.input_dim = fx.meta_int("input");
  c.cfg.hidden_dim = fx.meta_int("hidden");
  c.B = fx.meta_int("batch");
  c.Tn = fx.meta_int("time");
  c.S = c.cfg.cell == "lstm" ? 2 : 1;
  c.lengths = fx.at("lengths", {c.B}).ints;
  c.zero_h0 = fx.meta_str("h0") == "zero";
  return c;
}

// Rows (b, t) of a (B, T, F) tensor, in `rows` order (row index b·T + t), flattened.
std::vector<double> select_rows(const fixture::Tensor& t, const std::vector<int64_t>& rows) {
  const int64_t F = t.dims.back();
  std::vector<double> out;
  for (int64_t r : rows) out.insert(out.end(), t.values.begin() + r * F, t.values.begin() + (r + 1) * F);
  return out;
}

// PyTorch's packed order: step t's rows for the sorted sequences still running, as b·T + t.
std::vector<int64_t> packed_rows(const PackInfo& info, int64_t Tn) {
  std::vector<int64_t> rows;
  for (int64_t t = 0; t < info.max_len(); ++t)
    for (int64_t i = 0; i < info.batch_sizes[static_cast<size_t>(t)]; ++i)
      rows.push_back(info.sorted_indices[static_cast<size_t>(i)] * Tn + t);
  return rows;
}

template <class T>
std::vector<T> copy_of(const Var<T>& v) {
  return std::vector<T>(v.data(), v.data() + v.size());
}

template <class T>
Var<T> stack_rows(const std::vector<Var<T>>& xs) {
  return xs.size() == 1 ? xs[0] : concat_rows(xs);
}

enum class Layout { Padded, Packed };

struct Run {
  const char* name;
  Layout layout;
  bool fusion;
  bool defaults;  // no initial states, no lengths
};

// One fixture in one layout.
template <class T>
Worst run_layout(const fixture::Fixture& fx, const Case& c, const Run& run, double tol) {
  const int64_t B = c.B, Tn = c.Tn, I = c.cfg.input_dim, H = c.cfg.hidden_dim, K = c.K(), W = c.cfg.output_dim();
  ParameterStore<T> store;
  Rng rng(7);
  SequenceRunner<T> runner(store, c.cfg, rng);
  REQUIRE(runner.state_size() == c.S);
  int64_t fixture_params = 0;
  for (const std::string& n : fx.order) fixture_params += n.rfind("rnn.", 0) == 0;
  REQUIRE(static_cast<int64_t>(store.count()) == fixture_params);
  for (Parameter<T>* p : store.all()) {
    std::vector<int64_t> dims(p->shape.dims.begin(), p->shape.dims.begin() + p->shape.rank);
    p->value = fx.at(p->name, dims).template as<T>();
  }

  const char* state_names[2] = {"h", "c"};
  Tape<T> tape;
  tape.set_fusion(run.fusion);
  Var<T> X = tape.input(fx.at("X", {B, Tn, I}).template as<T>(), Shape{B, Tn, I}, true);
  std::vector<CellState<T>> init;
  if (!run.defaults) {
    init.resize(static_cast<size_t>(K));
    for (int64_t s = 0; s < c.S; ++s) {
      const std::vector<T> v = fx.at(std::string(state_names[s]) + "0", {K, B, H}).template as<T>();
      for (int64_t k = 0; k < K; ++k)
        init[static_cast<size_t>(k)].push_back(tape.input(v.data() + k * B * H, Shape{B, H}, true));
    }
  }

  const PackInfo info = make_pack_info(c.lengths);
  const std::vector<int64_t> rows = packed_rows(info, Tn);
  RunnerInput<T> in;
  if (run.layout == Layout::Packed) {
    Var<T> Xp = gather_rows(reshape(X, Shape{B * Tn, I}), rows);
    in = RunnerInput<T>::packed_rows(Xp, info.batch_sizes, info.sorted_indices);
  } else {
    in = RunnerInput<T>::padded(X, run.defaults ? std::vector<int64_t>{} : c.lengths);
  }
  RunnerOutput<T> out = runner.forward(tape, in, init);
  REQUIRE(out.final_states.size() == static_cast<size_t>(K));
  const Shape want_out = run.layout == Layout::Packed ? Shape{info.total(), W} : Shape{B, Tn, W};
  REQUIRE(out.output.shape() == want_out);

  const fixture::Tensor& R = fx.at("R", {B, Tn, W});
  const std::vector<double> Rv = run.layout == Layout::Packed ? select_rows(R, rows) : R.values;
  Var<T> loss = sum(mul(out.output, tape.input(std::vector<T>(Rv.begin(), Rv.end()), out.output.shape())));
  std::vector<std::vector<T>> finals;  // per part: (K·B, hidden) in h_n's order
  for (int64_t s = 0; s < c.S; ++s) {
    std::vector<Var<T>> parts;
    for (const CellState<T>& st : out.final_states) parts.push_back(st.at(static_cast<size_t>(s)));
    Var<T> fin = stack_rows(parts);
    REQUIRE(fin.shape() == Shape{K * B, H});
    const std::string rn = s == 0 ? "Rh" : "Rc";
    loss = add(loss, sum(mul(fin, tape.input(fx.at(rn, {K, B, H}).template as<T>(), Shape{K * B, H}))));
    finals.push_back(copy_of(fin));
  }
  const std::vector<T> output = copy_of(out.output);
  tape.backward(loss);

  Worst w;
  const fixture::Tensor& ref_out = fx.at("output", {B, Tn, W});
  check_close("output", run.layout == Layout::Packed ? select_rows(ref_out, rows) : ref_out.values, output.data(),
              output.size(), tol, w);
  for (int64_t s = 0; s < c.S; ++s) {
    const std::string n = std::string(state_names[s]) + "_n";
    check_close(n, fx.at(n, {K, B, H}).values, finals[static_cast<size_t>(s)].data(), static_cast<size_t>(K * B * H),
                tol, w);
  }
  const T l = loss.item();
  check_close("loss", fx.at("loss", {}).values, &l, 1, tol, w);
  for (Parameter<T>* p : store.all())
    check_close("grad_" + p->name, fx.at("grad_" + p->name).values, p->grad.data(), p->grad.size(), tol, w);
  check_close("grad_X", fx.at("grad_X", {B, Tn, I}).values, X.grad(), static_cast<size_t>(X.size()), tol, w);
  if (!run.defaults)
    for (int64_t s = 0; s < c.S; ++s) {
      std::vector<T> g;
      for (const CellState<T>& st : init) {
        const Var<T>& v = st[static_cast<size_t>(s)];
        REQUIRE(v.grad() != nullptr);
        g.insert(g.end(), v.grad(), v.grad() + v.size());
      }
      const std::string n = std::string("grad_") + state_names[s] + "0";
      check_close(n, fx.at(n, {K, B, H}).values, g.data(), g.size(), tol, w);
    }
  return w;
}

template <class T>
void run_all(const std::string& dtype, double tol) {
  std::vector<std::string> files;
  for (const std::string& f : fixture::list_fixtures(kRunnerFixtureDir))
    if (f.size() > 8 && f.compare(f.size() - 8, 8, "_" + dtype + ".txt") == 0) files.push_back(f);
  for (const char* want : {"lstm_l1_full", "gru_l1_full", "rnn_tanh_l1_full", "lstm_l2_bi_var", "gru_l2_bi_var",
                           "gru_l2_var", "rnn_relu_l1_bi_var"}) {
    INFO("fixture " << want << "_" << dtype << ".txt in " << kRunnerFixtureDir);
    CHECK(std::find(files.begin(), files.end(), kRunnerFixtureDir + "/" + want + "_" + dtype + ".txt") != files.end());
  }
  REQUIRE(files.size() >= 7);
  const Run runs[] = {{"padded", Layout::Padded, true, false},
                      {"packed", Layout::Packed, true, false},
                      {"padded/unfused", Layout::Padded, false, false},
                      {"packed/unfused", Layout::Packed, false, false},
                      {"padded/default", Layout::Padded, true, true}};
  for (const std::string& f : files) {
    const fixture::Fixture fx = fixture::read_fixture(f);
    REQUIRE(fx.meta_str("dtype") == dtype);
    SECTION(fx.meta_str("case")) {
      const Case c = read_case(fx);
      Worst all;
      for (const Run& run : runs) {
        if (run.defaults && !(c.zero_h0 && fx.meta_str("lengths") == "full")) continue;
        INFO("fixture " << f << ", layout " << run.name);
        const Worst w = run_layout<T>(fx, c, run, tol);
        CHECK(w.compared > 0);
        all.merge(Worst{w.err, std::string(run.name) + " " + w.where, w.compared});
        if (std::getenv("REEL_FIXTURE_REPORT"))
          std::cout << "[runner " << dtype << "] " << fx.meta_str("case") << " " << run.name << ": " << w.compared
                    << " values, max err " << w.err << " at " << w.where << "\n";
      }
      if (std::getenv("REEL_FIXTURE_REPORT"))
        std::cout << "[runner " << dtype << "] " << fx.meta_str("case") << " worst " << all.err << " (" << all.where
                  << ")\n";
    }
  }
}

}  // namespace

TEST_CASE("SequenceRunner matches PyTorch RNN/LSTM/GRU in float64 (err <= 1e-9)", "[runner][pytorch]") {
  run_all<double>("f64", 1e-9);
}

TEST_CASE("SequenceRunner matches PyTorch RNN/LSTM/GRU in float32 (err <= 1e-4)", "[runner][pytorch]") {
  run_all<float>("f32", 1e-4);
}
