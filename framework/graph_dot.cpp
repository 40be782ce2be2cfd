#include "framework/graph_dot.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

namespace reel {
namespace {

struct ViewEdge {
  int32_t src = -1, dst = -1;
  bool recurrent = false;
};

// The node and edge set both to_dot and analyze_graph work from: the records' data flow.
struct GraphView {
  std::vector<int32_t> nodes;        // ids, increasing
  std::vector<ViewEdge> edges;       // one per record input, in record order
  std::vector<int32_t> steps;        // distinct Node::step >= 0 of the drawn nodes, increasing
  std::set<int32_t> recurrent_params;  // params feeding the destination of a recurrent edge
  std::map<int32_t, size_t> uses;    // node id -> number of record inputs it fills
};

bool role_is(const char* role, const char* want) { return role && std::strcmp(role, want) == 0; }

template <class T>
bool is_recurrent(const Tape<T>& tape, int32_t src, int32_t dst) {
  const Node<T>& s = tape.node(src);
  if (!role_is(s.role, "h") && !role_is(s.role, "h0")) return false;
  return tape.node(dst).step > s.step;
}

template <class T>
GraphView build_view(const Tape<T>& tape) {
  GraphView v;
  std::set<int32_t> nodes;
  for (const Record<T>& r : tape.records()) {
    nodes.insert(r.out);
    bool any_recurrent = false;
    for (int32_t i = 0; i < r.n_in; ++i) {
      ViewEdge e;
      e.src = r.in[i];
      e.dst = r.out;
      e.recurrent = is_recurrent(tape, e.src, e.dst);
      any_recurrent = any_recurrent || e.recurrent;
      nodes.insert(e.src);
      v.uses[e.src] += 1;
      v.edges.push_back(e);
    }
    if (any_recurrent)
      for (int32_t i = 0; i < r.n_in; ++i)
        if (tape.node(r.in[i]).is_param) v.recurrent_params.insert(r.in[i]);
  }
  v.nodes.assign(nodes.begin(), nodes.end());
  std::set<int32_t> steps;
  for (int32_t id : v.nodes)
    if (tape.node(id).step >= 0) steps.insert(tape.node(id).step);
  v.steps.assign(steps.begin(), steps.end());
  return v;
}

// Escapes text for a double-quoted DOT string.
std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}

// "h_3" for role "h" at step 2, "h_0" for role "h0", "x" for a whole-sequence input.
template <class T>
std::string role_text(const Node<T>& n) {
  if (!n.role) return {};
  if (role_is(n.role, "h0")) return "h_0";
  std::string r = n.role;
  if (n.step >= 0) r += "_" + std::to_string(n.step + 1);
  return r;
}

template <class T>
std::string node_line(const Tape<T>& tape, const GraphView& v, int32_t id, const DotOptions& opt) {
  const Node<T>& n = tape.node(id);
  std::vector<std::string> lines;
  std::string attrs;
  if (n.is_param || n.kind == OpKind::Param) {
    const Parameter<T>* p = tape.param_of(id);
    lines.push_back((p ? p->name : std::string("param#") + std::to_string(id)) + " (shared)");
    auto it = v.uses.find(id);
    const size_t uses = it == v.uses.end() ? 0 : it->second;
    lines.push_back("used " + std::to_string(uses) + (uses == 1 ? " time" : " times"));
    attrs = "shape=box, style=dashed";
    if (v.recurrent_params.count(id)) attrs += ", color=red, fontcolor=red";
  } else {
    const std::string role = role_text(n);
    if (!role.empty()) lines.push_back(role);
    lines.push_back(op_name(n.kind));
    if (role_is(n.role, "h0"))
      attrs = "shape=box, style=filled, fillcolor=lightgray";
    else if (role_is(n.role, "h"))
      attrs = "shape=box, style=filled, fillcolor=lightgreen";
    else if (role_is(n.role, "y"))
      attrs = "shape=ellipse, style=filled, fillcolor=lightyellow";
    else if (role_is(n.role, "x") || n.kind == OpKind::Input)
      attrs = "shape=ellipse, style=filled, fillcolor=lightblue";
    else
      attrs = "shape=box";
  }
  if (opt.show_shapes) lines.push_back(n.shape.str());
  if (opt.show_ids) lines.push_back("#" + std::to_string(id));
  std::string label;
  for (size_t i = 0; i < lines.size(); ++i) label += (i ? "\\n" : "") + esc(lines[i]);
  return "n" + std::to_string(id) + " [label=\"" + label + "\", " + attrs + "];";
}

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'')
      o += "'\\''";
    else
      o += c;
  }
  return o + "'";
}

}  // namespace

template <class T>
std::string to_dot(const Tape<T>& tape, const DotOptions& opt) {
  const GraphView v = build_view(tape);
  std::ostringstream os;
  os << "digraph \"" << esc(opt.graph_name) << "\" {\n";
  os << "  rankdir=LR;\n";
  os << "  node [shape=box, fontname=\"Helvetica\"];\n";
  os << "  edge [fontname=\"Helvetica\"];\n";
  if (!opt.title.empty()) os << "  labelloc=t;\n  label=\"" << esc(opt.title) << "\";\n";

  // Outside every timestep: the non-parameter nodes first, then each parameter once.
  os << "  // nodes outside any timestep\n";
  for (int32_t id : v.nodes) {
    const Node<T>& n = tape.node(id);
    if (!n.is_param && (n.step < 0 || !opt.cluster_steps)) os << "  " << node_line(tape, v, id, opt) << "\n";
  }
  os << "  // parameters (shared by every timestep)\n";
  for (int32_t id : v.nodes)
    if (tape.node(id).is_param) os << "  " << node_line(tape, v, id, opt) << "\n";

  if (opt.cluster_steps) {
    for (int32_t t : v.steps) {
      os << "  subgraph cluster_" << t << " {\n";
      os << "    label=\"Timestep " << (t + 1) << "\";\n";
      os << "    style=rounded;\n    color=gray50;\n";
      for (int32_t id : v.nodes) {
        const Node<T>& n = tape.node(id);
        if (!n.is_param && n.step == t) os << "    " << node_line(tape, v, id, opt) << "\n";
      }
      os << "  }\n";
    }
  }

  os << "  // data flow: one edge per record input\n";
  for (const ViewEdge& e : v.edges) {
    os << "  n" << e.src << " -> n" << e.dst;
    if (e.recurrent)
      os << " [color=red, style=bold, penwidth=2]";
    else if (tape.node(e.src).is_param)
      os << " [style=dashed, color=gray40]";
    os << ";\n";
  }
  os << "}\n";
  spdlog::debug("to_dot: {} nodes, {} edges, {} timesteps", v.nodes.size(), v.edges.size(), v.steps.size());
  return os.str();
}

template <class T>
GraphAnalysis analyze_graph(const Tape<T>& tape) {
  const GraphView v = build_view(tape);
  GraphAnalysis a;
  a.nodes = v.nodes.size();
  a.edges = v.edges.size();
  a.timesteps = v.steps.size();
  a.nodes_per_step.assign(v.steps.size(), 0);
  a.edges_per_step.assign(v.steps.size(), 0);
  auto slot = [&](int32_t step) -> long {
    auto it = std::lower_bound(v.steps.begin(), v.steps.end(), step);
    return it != v.steps.end() && *it == step ? static_cast<long>(it - v.steps.begin()) : -1;
  };
  for (int32_t id : v.nodes) {
    const Node<T>& n = tape.node(id);
    if (n.is_param) continue;  // parameters are drawn outside the clusters, as in to_dot
    const long s = slot(n.step);
    if (s >= 0) a.nodes_per_step[static_cast<size_t>(s)] += 1;
  }
  for (const ViewEdge& e : v.edges) {
    if (e.recurrent) a.recurrent_edges += 1;
    const Node<T>& d = tape.node(e.dst);
    const long s = d.is_param ? -1 : slot(d.step);
    if (s >= 0) a.edges_per_step[static_cast<size_t>(s)] += 1;
  }
  return a;
}

bool dot_available() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

bool render(const std::string& dot_path, const std::string& out_path, const std::string& format) {
  if (format != "svg" && format != "png" && format != "pdf")
    throw UsageError("render: format '" + format + "' is not one of svg, png, pdf");
  if (!dot_available()) {
    spdlog::info("render: Graphviz 'dot' is not installed; {} left unrendered", dot_path);
    return false;
  }
  const std::string cmd = "dot -T" + format + " " + shell_quote(dot_path) + " -o " + shell_quote(out_path);
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    spdlog::warn("render: '{}' failed with status {}", cmd, rc);
    return false;
  }
  spdlog::info("render: wrote {}", out_path);
  return true;
}

bool render_svg(const std::string& dot_path, const std::string& svg_path) { return render(dot_path, svg_path, "svg"); }

template std::string to_dot<float>(const Tape<float>&, const DotOptions&);
template std::string to_dot<double>(const Tape<double>&, const DotOptions&);
template GraphAnalysis analyze_graph<float>(const Tape<float>&);
template GraphAnalysis analyze_graph<double>(const Tape<double>&);

}  // namespace reel
