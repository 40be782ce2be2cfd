// The reference's visualize_computational_graph() / analyze_graph_structure(), from a real tape:
// records a --steps-timestep forward (default 3) of a vanilla RNN (input 4, hidden 8, output 2,
// batch 1, seed 42), writes the recorded graph as Graphviz DOT (generated from the tape's nodes
// and records), renders it (--format svg|png|pdf) if Graphviz is installed, and prints the
// graph's structure.
//
//   graph [--out PATH] [--steps N] [--format svg|png|pdf]
//     --out rnn_graph.dot  DOT there, the picture beside it (rnn_graph.svg)
//     --out rnn_graph.pdf  the picture there (its format from the name), the DOT as rnn_graph.dot
//
// The last stdout line is one JSON object with nodes, edges, timesteps, recurrent_edges, dot and
// the rendered file (null when Graphviz is missing).
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "examples/example_common.h"
#include "framework/graph_dot.h"
#include "framework/ops.h"
#include "framework/rng.h"
#include "framework/tape.h"
#include "models/vanilla_rnn.h"

using namespace reel;

namespace {

std::string json_list(const std::vector<size_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

// path without its extension (if it has one) and the extension.
std::pair<std::string, std::string> split_ext(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) return {path.substr(0, dot), path.substr(dot + 1)};
  return {path, ""};
}

// The program itself, after the flags.
int run(const std::string& out, int64_t seq_len, std::string format, bool format_given) {
  const auto [stem, ext] = split_ext(out);
  std::string dot_path = out, picture;
  if (ext == "svg" || ext == "png" || ext == "pdf") {  // the picture's name: never DOT text in it
    if (format_given && format != ext)
      throw UsageError("--out " + out + " is a ." + ext + " file but --format is " + format);
    format = ext;
    dot_path = stem + ".dot";
    picture = out;
  } else {
    picture = stem + "." + format;
  }
  Rng rng(42);
  ParameterStore<float> store;
  RNNConfig cfg;
  cfg.input_dim = 4;
  cfg.hidden_dim = 8;
  cfg.output_dim = 2;
  VanillaRNN<float> rnn(store, cfg, rng);

  std::vector<float> xs(static_cast<size_t>(seq_len * cfg.input_dim));
  for (float& v : xs) v = static_cast<float>(rng.normal());

  Tape<float> tape;
  Var<float> X = tape.input(xs, Shape{1, seq_len, cfg.input_dim});
  rnn.forward_sequence(tape, X);

  DotOptions opt;
  opt.graph_name = "rnn";
  opt.title = "Vanilla RNN, " + std::to_string(seq_len) + " timesteps (recorded tape)";
  const std::string dot_text = to_dot(tape, opt);
  {
    std::ofstream f(dot_path);
    if (!f) throw UsageError("graph: cannot write " + dot_path);
    f << dot_text;
    if (!f.flush()) throw UsageError("graph: cannot write " + dot_path);
  }
  const bool rendered = render(dot_path, picture, format);

  const GraphAnalysis a = analyze_graph(tape);
  std::printf("Computational Graph Analysis\n%s\n", std::string(50, '=').c_str());
  std::printf("Sequence length: %lld\n", static_cast<long long>(seq_len));
  std::printf("Tape records: %zu, tape nodes: %zu\n", tape.num_records(), tape.num_nodes());
  std::printf("Total nodes: %zu\n", a.nodes);
  std::printf("Total edges: %zu\n", a.edges);
  std::printf("Timesteps (clusters): %zu\n", a.timesteps);
  std::printf("Nodes per timestep: %s\n", json_list(a.nodes_per_step).c_str());
  std::printf("Edges per timestep: %s\n", json_list(a.edges_per_step).c_str());
  std::printf("Recurrent edges (h_t -> next step's memory projection): %zu\n", a.recurrent_edges);
  std::printf("DOT written to %s\n", dot_path.c_str());
  if (rendered)
    std::printf("%s written to %s\n", format.c_str(), picture.c_str());
  else
    std::printf("%s not rendered (Graphviz 'dot' not available or failed)\n", format.c_str());

  std::printf(
      "{\"example\":\"graph\",\"nodes\":%zu,\"edges\":%zu,\"timesteps\":%zu,\"recurrent_edges\":%zu,"
      "\"nodes_per_step\":%s,\"edges_per_step\":%s,\"dot\":%s,\"%s\":%s}\n",
      a.nodes, a.edges, a.timesteps, a.recurrent_edges, json_list(a.nodes_per_step).c_str(),
      json_list(a.edges_per_step).c_str(), json_string(dot_path).c_str(), format.c_str(),
      rendered ? json_string(picture).c_str() : "null");
  return a.recurrent_edges == static_cast<size_t>(seq_len) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("graph",
          "The unrolled graph of a 3-step vanilla RNN forward, from the tape: Graphviz DOT (and SVG beside it when "
          "Graphviz is installed), its structure, then one JSON line.");
  cli.option("out", "rnn_graph.dot", "DOT file (the picture beside it), or the picture itself (.svg, .png, .pdf)");
  cli.option("steps", "3", "timesteps to unroll").integer_in(1, 50);
  cli.option("format", "svg", "picture format: svg, png or pdf");
  return examples::run_main(cli, argc, argv, [&] {
    const int64_t steps = cli.integer("steps");
    if (steps < 1 || steps > 50) throw UsageError("--steps " + std::to_string(steps) + " is outside 1..50");
    const std::string format = cli.str("format");
    if (format != "svg" && format != "png" && format != "pdf")
      throw UsageError("--format '" + format + "' is not one of svg, png, pdf");
    return run(cli.str("out"), steps, format, cli.given("format"));
  });
}
