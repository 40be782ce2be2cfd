// The reference's visualize_computational_graph() / analyze_graph_structure(), from a real tape:
// records a 3-timestep forward of a vanilla RNN (input 4, hidden 8, output 2, batch 1, seed 42),
// writes the recorded graph as Graphviz DOT (generated from the tape's nodes and records),
// renders it to SVG beside the .dot if Graphviz is installed, and prints the graph's structure.
//
//   graph [--out PATH]     (default rnn_graph.dot in the working directory; --help prints the usage)
//
// The last stdout line is one JSON object with nodes, edges, timesteps, recurrent_edges, dot, svg.
#include <cstdio>
#include <fstream>
#include <string>
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

std::string svg_path_for(const std::string& dot_path) {
  const size_t slash = dot_path.find_last_of('/');
  const size_t dot = dot_path.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash))
    return dot_path.substr(0, dot) + ".svg";
  return dot_path + ".svg";
}

// The program itself, after the flags.
int run(const std::string& out) {
  const int64_t seq_len = 3;
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
    std::ofstream f(out);
    if (!f) {
      std::fprintf(stderr, "graph: cannot write %s\n", out.c_str());
      return 1;
    }
    f << dot_text;
  }
  const std::string svg = svg_path_for(out);
  const bool rendered = render_svg(out, svg);

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
  std::printf("DOT written to %s\n", out.c_str());
  if (rendered)
    std::printf("SVG written to %s\n", svg.c_str());
  else
    std::printf("SVG not rendered (Graphviz 'dot' not available or failed)\n");

  std::printf(
      "{\"example\":\"graph\",\"nodes\":%zu,\"edges\":%zu,\"timesteps\":%zu,\"recurrent_edges\":%zu,"
      "\"nodes_per_step\":%s,\"edges_per_step\":%s,\"dot\":%s,\"svg\":%s}\n",
      a.nodes, a.edges, a.timesteps, a.recurrent_edges, json_list(a.nodes_per_step).c_str(),
      json_list(a.edges_per_step).c_str(), json_string(out).c_str(),
      rendered ? json_string(svg).c_str() : "null");
  return a.recurrent_edges == static_cast<size_t>(seq_len) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("graph",
          "The unrolled graph of a 3-step vanilla RNN forward, from the tape: Graphviz DOT (and SVG beside it when "
          "Graphviz is installed), its structure, then one JSON line.");
  cli.option("out", "rnn_graph.dot", "DOT file to write (the SVG gets the same name with .svg)");
  return examples::run_main(cli, argc, argv, [&] { return run(cli.str("out")); });
}
