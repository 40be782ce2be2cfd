#include "framework/memory/accounting.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace reel::memory {

namespace {
size_t rounded(int64_t elems, size_t elem) {
  const size_t per = 64 / elem ? 64 / elem : 1;
  const size_t n = static_cast<size_t>(elems > 0 ? elems : 1);
  return (n + per - 1) / per * per * elem;
}

size_t status_field(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t klen = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, klen, key) == 0 && line.size() > klen && line[klen] == ':') {
      unsigned long long kb = 0;
      if (std::sscanf(line.c_str() + klen + 1, "%llu", &kb) == 1) return static_cast<size_t>(kb) * 1024;
    }
  return 0;
}
}  // namespace

template <class T>
MemoryBreakdown memory_breakdown(const Tape<T>& tape) {
  MemoryBreakdown b;
  b.stats = tape.stats();
  size_t owned = 0;
  for (size_t i = 0; i < tape.num_nodes(); ++i) {
    const Node<T>& n = tape.node(static_cast<int32_t>(i));
    if (n.is_param) continue;  // value and gradient live in the ParameterStore
    // Views (slices, reshapes, detach) share their parent's storage.
    if (n.alias_of >= 0 || n.kind == OpKind::Detach) {
      ++b.by_kind[static_cast<size_t>(n.kind)].nodes;
      continue;
    }
    KindBytes& k = b.by_kind[static_cast<size_t>(n.kind)];
    ++k.nodes;
    const size_t v = rounded(n.shape.size(), sizeof(T));
    if (n.value) {  // a fused op's unkept intermediate has none
      k.values += v;
      owned += v;
    }
    if (n.grad) k.grads += v;
  }
  for (size_t i = 0; i < static_cast<size_t>(kNumOpKinds); ++i) {
    b.by_kind[i].records = b.stats.records_by_kind[i];
    b.by_kind[i].saved = b.stats.saved_bytes_by_kind[i];
  }
  b.scratch_values = b.stats.value_bytes > owned ? b.stats.value_bytes - owned : 0;
  return b;
}

std::string MemoryBreakdown::table() const {
  std::ostringstream os;
  char line[160];
  std::snprintf(line, sizeof line, "%-14s %8s %8s %12s %12s %12s\n", "op", "nodes", "records", "values", "grads", "saved");
  os << line;
  for (int i = 0; i < kNumOpKinds; ++i) {
    const KindBytes& k = by_kind[static_cast<size_t>(i)];
    if (!k.nodes && !k.records) continue;
    std::snprintf(line, sizeof line, "%-14s %8zu %8zu %12zu %12zu %12zu\n", op_name(static_cast<OpKind>(i)), k.nodes,
                  k.records, k.values, k.grads, k.saved);
    os << line;
  }
  std::snprintf(line, sizeof line, "%-14s %8s %8s %12zu\n", "scratch", "", "", scratch_values);
  os << line;
  std::snprintf(line, sizeof line, "%-14s %8zu %8zu %12zu %12zu %12zu  (peak %zu)", "total", stats.nodes, stats.records,
                stats.value_bytes, stats.grad_bytes, stats.saved_bytes, stats.peak_bytes);
  os << line;
  return os.str();
}

std::string MemoryBreakdown::json() const {
  std::ostringstream os;
  os << "{";
  bool first = true;
  for (int i = 0; i < kNumOpKinds; ++i) {
    const KindBytes& k = by_kind[static_cast<size_t>(i)];
    if (!k.nodes && !k.records) continue;
    os << (first ? "" : ",") << "\"" << op_name(static_cast<OpKind>(i)) << "\":{\"values\":" << k.values
       << ",\"grads\":" << k.grads << ",\"saved\":" << k.saved << "}";
    first = false;
  }
  os << (first ? "" : ",") << "\"scratch\":" << scratch_values << "}";
  return os.str();
}

size_t peak_rss_bytes() { return status_field("VmHWM"); }
size_t current_rss_bytes() { return status_field("VmRSS"); }

bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

template MemoryBreakdown memory_breakdown(const Tape<float>&);
template MemoryBreakdown memory_breakdown(const Tape<double>&);

}  // namespace reel::memory
