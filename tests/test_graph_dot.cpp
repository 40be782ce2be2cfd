// The DOT export and graph analysis of a recorded vanilla-RNN forward.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "framework/graph_dot.h"
#include "framework/ops.h"
#include "framework/rng.h"
#include "models/vanilla_rnn.h"

using namespace reel;

namespace {

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
  return n;
}

bool braces_balanced(const std::string& text) {
  long depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{') ++depth;
    else if (c == '}' && --depth < 0) return false;
  }
  return depth == 0 && !in_string;
}

struct Recorded {
  ParameterStore<float> store;
  Tape<float> tape;
};

void record_rnn(Recorded& r, int64_t steps) {
  Rng rng(42);
  RNNConfig cfg;
  cfg.input_dim = 4;
  cfg.hidden_dim = 8;
  cfg.output_dim = 2;
  VanillaRNN<float> rnn(r.store, cfg, rng);
  std::vector<float> xs(static_cast<size_t>(steps * cfg.input_dim));
  for (float& v : xs) v = static_cast<float>(rng.normal());
  Var<float> X = r.tape.input(xs, Shape{1, steps, cfg.input_dim});
  rnn.forward_sequence(r.tape, X);
}

}  // namespace

TEST_CASE("DOT export of a recorded RNN forward", "[dot]") {
  for (int64_t T : {3, 5}) {
    DYNAMIC_SECTION("T = " << T) {
      Recorded r;
      record_rnn(r, T);
      const std::string dot = to_dot(r.tape);
      const GraphAnalysis a = analyze_graph(r.tape);
      INFO(dot);

      CHECK(a.timesteps == static_cast<size_t>(T));
      CHECK(a.recurrent_edges == static_cast<size_t>(T));
      CHECK(count_of(dot, "subgraph cluster_") == static_cast<size_t>(T));
      for (int64_t t = 0; t < T; ++t) {
        CHECK(count_of(dot, "subgraph cluster_" + std::to_string(t) + " {") == 1);
        CHECK(count_of(dot, "label=\"Timestep " + std::to_string(t + 1) + "\"") == 1);
      }

      // Each parameter: exactly one node, labelled with its name.
      for (Parameter<float>* p : r.store.all()) {
        INFO(p->name);
        CHECK(count_of(dot, p->name) == 1);
        CHECK(count_of(dot, "label=\"" + p->name + " (shared)") == 1);
      }
      // W_hh's node is red, and every recurrent edge is bold red.
      const size_t whh = dot.find("rnn.W_hh (shared)");
      REQUIRE(whh != std::string::npos);
      const std::string whh_line = dot.substr(whh, dot.find('\n', whh) - whh);
      CHECK(whh_line.find("color=red") != std::string::npos);
      CHECK(count_of(dot, "[color=red, style=bold") == static_cast<size_t>(T));

      // Edges: one per record input, in the analysis and in the text.
      size_t inputs = 0;
      for (const Record<float>& rec : r.tape.records()) inputs += static_cast<size_t>(rec.n_in);
      CHECK(a.edges == inputs);
      CHECK(count_of(dot, " -> ") == inputs);
      // Nodes: every drawn node is declared once ("nK [label=...").
      CHECK(count_of(dot, " [label=\"") == a.nodes);

      // Per step: the same structure every step (select, matmul, add, bias_add, tanh, matmul, bias_add).
      REQUIRE(a.nodes_per_step.size() == static_cast<size_t>(T));
      REQUIRE(a.edges_per_step.size() == static_cast<size_t>(T));
      for (size_t t = 0; t < a.nodes_per_step.size(); ++t) {
        CHECK(a.nodes_per_step[t] == a.nodes_per_step[0]);
        CHECK(a.edges_per_step[t] == a.edges_per_step[0]);
      }
      CHECK(a.nodes_per_step[0] == 7);
      CHECK(a.edges_per_step[0] == 12);

      // Syntactically plausible.
      CHECK(dot.rfind("digraph ", 0) == 0);
      CHECK(dot.find("rankdir=LR;") != std::string::npos);
      CHECK(braces_balanced(dot));
      CHECK(count_of(dot, "lightgreen") == static_cast<size_t>(T));  // h_1 .. h_T
      CHECK(count_of(dot, "lightyellow") == static_cast<size_t>(T)); // y_1 .. y_T
      CHECK(count_of(dot, "lightgray") == 1);                        // h_0
      CHECK(count_of(dot, "lightblue") == 1);                        // X

      // Rendering, when Graphviz is installed.
      if (dot_available()) {
        const std::string base = std::string(REEL_BINARY_DIR) + "/test_graph_dot_T" + std::to_string(T);
        {
          std::ofstream f(base + ".dot");
          f << dot;
        }
        std::remove((base + ".svg").c_str());
        CHECK(render_svg(base + ".dot", base + ".svg"));
        std::ifstream svg(base + ".svg");
        std::stringstream ss;
        ss << svg.rdbuf();
        CHECK(ss.str().find("<svg") != std::string::npos);
        CHECK(ss.str().find("Timestep " + std::to_string(T)) != std::string::npos);
      } else {
        WARN("Graphviz 'dot' not installed: skipped the SVG rendering check");
        CHECK_FALSE(render_svg("nonexistent.dot", "nonexistent.svg"));
      }
    }
  }
}

TEST_CASE("DOT export of an empty tape and of a no-grad forward", "[dot]") {
  Tape<double> tape;
  const std::string empty = to_dot(tape);
  CHECK(braces_balanced(empty));
  CHECK(count_of(empty, " -> ") == 0);
  GraphAnalysis a = analyze_graph(tape);
  CHECK(a.nodes == 0);
  CHECK(a.timesteps == 0);

  ParameterStore<double> store;
  Rng rng(1);
  RNNConfig cfg;
  cfg.input_dim = 2;
  cfg.hidden_dim = 3;
  VanillaRNN<double> rnn(store, cfg, rng);
  {
    NoGradGuard<double> ng(tape);
    Var<double> X = tape.zeros(Shape{1, 4, 2});
    rnn.forward_sequence(tape, X);
  }
  a = analyze_graph(tape);
  CHECK(a.nodes == 0);  // nothing recorded, nothing drawn
  CHECK(a.edges == 0);
  CHECK(braces_balanced(to_dot(tape)));
}
