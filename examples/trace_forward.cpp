// The reference's trace_forward_pass(): a small vanilla RNN (input 3, hidden 4, output 2) run over
// a 5-step sequence, printing every intermediate of every timestep — the input, the previous
// hidden state's norm, the input and memory contributions, the pre-activation and hidden ranges,
// and the output — then the final hidden state and every hidden norm.
//
// Weights and the sequence come from one Rng (seed 42): the model draws W_xh, W_hh, W_hy first,
// then X is drawn, as the reference draws its weights and then X after np.random.seed(42).
// The last stdout line is one JSON object.
//
//   trace_forward          (no options; --help prints the usage)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "examples/example_common.h"
#include "framework/ops.h"
#include "framework/rng.h"
#include "framework/tape.h"
#include "models/vanilla_rnn.h"

using namespace reel;

namespace {

double norm(const Var<double>& v) {
  double s = 0;
  for (double x : v.to_vector()) s += x * x;
  return std::sqrt(s);
}

double round3(double x) {
  double r = std::round(x * 1000.0) / 1000.0;
  return r == 0.0 ? 0.0 : r;  // no "-0.000"
}

// numpy-like "[ 0.497 -0.138  0.648]", rounded to 3 decimals.
std::string vec3(const std::vector<double>& v) {
  std::string s = "[";
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%6.3f", i ? " " : "", round3(v[i]));
    s += buf;
  }
  return s + "]";
}

std::string json_array(const std::vector<double>& v, const char* fmt) {
  std::string s = "[";
  char buf[40];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof(buf), fmt, v[i]);
    s += (i ? "," : "") + std::string(buf);
  }
  return s + "]";
}

void range_of(const Var<double>& v, double& lo, double& hi) {
  std::vector<double> x = v.to_vector();
  lo = *std::min_element(x.begin(), x.end());
  hi = *std::max_element(x.begin(), x.end());
}

// The program itself, after the flags.
int run() {
  const int64_t seq_len = 5;
  Rng rng(42);
  ParameterStore<double> store;
  RNNConfig cfg;
  cfg.input_dim = 3;
  cfg.hidden_dim = 4;
  cfg.output_dim = 2;
  VanillaRNN<double> rnn(store, cfg, rng);

  std::vector<double> xs(static_cast<size_t>(seq_len * cfg.input_dim));
  for (double& v : xs) v = rng.normal();

  const std::string eq(70, '='), dash(70, '-');
  std::printf("%s\nCOMPLETE FORWARD PASS TRACE\n%s\n", eq.c_str(), eq.c_str());
  std::printf("RNN Configuration:\n");
  std::printf("  Input dimension: %lld\n", static_cast<long long>(cfg.input_dim));
  std::printf("  Hidden dimension: %lld\n", static_cast<long long>(cfg.hidden_dim));
  std::printf("  Output dimension: %lld\n", static_cast<long long>(cfg.output_dim));
  std::printf("  Sequence length: %lld\n", static_cast<long long>(seq_len));

  Tape<double> tape;
  Var<double> X = tape.input(xs, Shape{1, seq_len, cfg.input_dim});
  auto result = rnn.forward_sequence(tape, X, Var<double>(), /*intermediates=*/true);

  std::printf("\n%s\nSTEP-BY-STEP COMPUTATION\n%s\n", dash.c_str(), dash.c_str());
  for (int64_t t = 0; t < seq_len; ++t) {
    const auto& in = result.intermediates[static_cast<size_t>(t)];
    const std::vector<double> x_t(xs.begin() + t * cfg.input_dim, xs.begin() + (t + 1) * cfg.input_dim);
    const double h_prev = t > 0 ? norm(result.hidden_states[static_cast<size_t>(t - 1)]) : 0.0;
    double zlo, zhi, hlo, hhi;
    range_of(in.z, zlo, zhi);
    range_of(in.h, hlo, hhi);
    const long long k = static_cast<long long>(t + 1);
    std::printf("\n>>> Timestep t = %lld\n", k);
    std::printf("  Input x_%lld: %s\n", k, vec3(x_t).c_str());
    std::printf("  Previous hidden h_%lld: norm = %.4f\n", k - 1, h_prev);
    std::printf("  Input contribution (W_xh @ x): norm = %.4f\n", norm(in.input_contribution));
    std::printf("  Memory contribution (W_hh @ h): norm = %.4f\n", norm(in.memory_contribution));
    std::printf("  Pre-activation z_%lld: range = [%.3f, %.3f]\n", k, zlo, zhi);
    std::printf("  Hidden state h_%lld: range = [%.3f, %.3f]\n", k, hlo, hhi);
    std::printf("  Output y_%lld: %s\n", k, vec3(in.y.to_vector()).c_str());
  }

  std::vector<double> norms;
  for (const auto& h : result.hidden_states) norms.push_back(norm(h));
  const std::vector<double> final_h = result.final_hidden.to_vector();

  std::printf("\n%s\nFINAL RESULTS\n%s\n", dash.c_str(), dash.c_str());
  std::printf("Final hidden state h_T: %s\n", vec3(final_h).c_str());
  std::printf("All hidden state norms: %s\n", json_array(norms, "%.6f").c_str());

  std::printf("{\"example\":\"trace_forward\",\"timesteps\":%lld,\"final_hidden\":%s,\"hidden_norms\":%s}\n",
              static_cast<long long>(seq_len), json_array(final_h, "%.6f").c_str(),
              json_array(norms, "%.6f").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("trace_forward",
          "The reference's step-by-step forward trace: a vanilla RNN (input 3, hidden 4, output 2, seed 42) over a "
          "5-step sequence, every intermediate of every timestep, then one JSON line.");
  return examples::run_main(cli, argc, argv, run);
}
