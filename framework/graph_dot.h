#pragma once
/// \file
/// Graphviz DOT export of a recorded tape, generated from the tape's nodes and records.
///
///  * The drawn graph is exactly the records' data flow: one edge per record input
///    (input node -> output node), and every node that is the input or the output of a record.
///    Leaves no record touches (an unused input, or anything made with grad mode off) are not drawn.
///  * Nodes made inside a timestep (Node::step >= 0) go into `subgraph cluster_<t>`
///    ("Timestep t+1"); everything else (the whole-sequence input, its batched projection,
///    parameters, h0) is drawn outside the clusters. Parameters are one node each, drawn once,
///    labelled by their ParameterStore name.
///  * Styles follow the reference drawing: inputs (role "x", or Input leaves) light blue ellipses,
///    hidden states (role "h") light green, outputs (role "y") light yellow ellipses, h0 light gray,
///    parameters dashed boxes. A recurrent edge — from a node whose role is "h" or "h0" into a node
///    made at a later timestep — is bold red, and so is every parameter that shares a record with
///    the destination of a recurrent edge (W_hh in an Elman RNN).
///
/// analyze_graph() counts the very same node and edge set, so its numbers agree with the DOT text.
#include <cstddef>
#include <string>
#include <vector>

#include "framework/tape.h"

namespace reel {

/// What to_dot draws and how.
struct DotOptions {
  std::string graph_name = "reel";  ///< the digraph's identifier
  std::string title;                ///< graph label drawn on top; empty: none
  bool show_shapes = true;          ///< put each node's shape in its label
  bool show_ids = false;            ///< put each node's tape id in its label
  bool cluster_steps = true;        ///< one cluster per timestep (off: a flat graph)
};

/// Writes the tape's recorded graph as a Graphviz DOT document.
template <class T>
std::string to_dot(const Tape<T>& tape, const DotOptions& options = {});

/// Counts of the graph to_dot draws (the same node and edge set).
struct GraphAnalysis {
  size_t nodes = 0;            ///< nodes drawn (inputs/outputs of records)
  size_t edges = 0;            ///< = Σ n_in over the records
  size_t timesteps = 0;        ///< distinct Node::step >= 0 among the drawn nodes
  size_t recurrent_edges = 0;  ///< edges h/h0 -> a node at a later step
  std::vector<size_t> nodes_per_step;  ///< by timestep, in increasing step order
  std::vector<size_t> edges_per_step;  ///< edges whose destination is in that timestep
};

/// Counts the tape's recorded graph as to_dot draws it.
template <class T>
GraphAnalysis analyze_graph(const Tape<T>& tape);

/// Writes `dot_path` rendered as SVG to `svg_path` with `dot -Tsvg`, if the Graphviz `dot`
/// program is on PATH. Returns whether an SVG was written.
bool render_svg(const std::string& dot_path, const std::string& svg_path);
/// The same for format "svg", "png" or "pdf" (UsageError on another).
bool render(const std::string& dot_path, const std::string& out_path, const std::string& format);

/// Whether the Graphviz `dot` program is on PATH.
bool dot_available();

}  // namespace reel
