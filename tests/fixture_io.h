#pragma once
// Reader for the text fixtures written by tools/make_fixtures.py (see that script for the format):
//
//   reel-fixture 1
//   meta <key> <value>
//   tensor <name> <f64|f32|i64> <rank> <d0> ... <d(rank-1)>
//   <prod(d) values on one line, row-major>
//   end
//
// Blank lines and lines starting with '#' are skipped. Every problem throws std::runtime_error
// naming the file (and line) and what was wrong.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fixture {

struct Tensor {
  std::string name;
  std::string dtype;           // "f64", "f32" or "i64"
  std::vector<int64_t> dims;   // empty for a scalar
  std::vector<double> values;  // f64/f32 values (an f32 value is held exactly), row-major
  std::vector<int64_t> ints;   // i64 values

  int64_t size() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  std::string shape_str() const {
    std::string s = "(";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + ")";
  }
  // The values converted to T (exact for T = the tensor's own dtype).
  template <class T>
  std::vector<T> as() const {
    return std::vector<T>(values.begin(), values.end());
  }
};

class Fixture {
 public:
  std::string path;
  std::map<std::string, std::string> meta;
  std::map<std::string, Tensor> tensors;
  std::vector<std::string> order;  // tensor names in file order

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  const Tensor& at(const std::string& name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error("fixture " + path + ": no tensor '" + name + "'");
    return it->second;
  }
  // at(name), checking its dims.
  const Tensor& at(const std::string& name, const std::vector<int64_t>& dims) const {
    const Tensor& t = at(name);
    if (t.dims != dims) {
      Tensor want;
      want.dims = dims;
      throw std::runtime_error("fixture " + path + ": tensor '" + name + "' has shape " + t.shape_str() +
                               ", expected " + want.shape_str());
    }
    return t;
  }
  const std::string& meta_str(const std::string& key) const {
    auto it = meta.find(key);
    if (it == meta.end()) throw std::runtime_error("fixture " + path + ": no meta '" + key + "'");
    return it->second;
  }
  int64_t meta_int(const std::string& key) const {
    const std::string& s = meta_str(key);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno || end == s.c_str() || *end != '\0')
      throw std::runtime_error("fixture " + path + ": meta '" + key + "' is not an integer: '" + s + "'");
    return v;
  }
};

namespace detail {

inline std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream is(line);
  std::string tok;
  while (is >> tok) out.push_back(tok);
  return out;
}

[[noreturn]] inline void fail(const std::string& path, size_t line, const std::string& what) {
  throw std::runtime_error("fixture " + path + (line ? ":" + std::to_string(line) : std::string()) + ": " + what);
}

inline int64_t parse_int(const std::string& path, size_t line, const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || end == s.c_str() || *end != '\0') fail(path, line, std::string("bad ") + what + " '" + s + "'");
  return v;
}

}  // namespace detail

inline Fixture read_fixture(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("fixture " + path + ": cannot open");
  Fixture fx;
  fx.path = path;
  std::string line;
  size_t ln = 0;
  bool header = false, ended = false;
  while (std::getline(in, line)) {
    ++ln;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> tok = detail::split(line);
    if (tok.empty()) continue;
    if (!header) {
      if (tok.size() != 2 || tok[0] != "reel-fixture" || tok[1] != "1")
        detail::fail(path, ln, "expected header 'reel-fixture 1', got '" + line + "'");
      header = true;
      continue;
    }
    if (ended) detail::fail(path, ln, "content after 'end'");
    if (tok[0] == "end") {
      ended = true;
    } else if (tok[0] == "meta") {
      if (tok.size() < 3) detail::fail(path, ln, "meta line needs a key and a value: '" + line + "'");
      std::string value = tok[2];
      for (size_t i = 3; i < tok.size(); ++i) value += " " + tok[i];
      fx.meta[tok[1]] = value;
    } else if (tok[0] == "tensor") {
      if (tok.size() < 4) detail::fail(path, ln, "tensor line needs name, dtype and rank: '" + line + "'");
      Tensor t;
      t.name = tok[1];
      t.dtype = tok[2];
      if (t.dtype != "f64" && t.dtype != "f32" && t.dtype != "i64")
        detail::fail(path, ln, "tensor '" + t.name + "': unknown dtype '" + t.dtype + "'");
      const int64_t rank = detail::parse_int(path, ln, tok[3], "rank");
      if (rank < 0 || static_cast<size_t>(rank) != tok.size() - 4)
        detail::fail(path, ln, "tensor '" + t.name + "': rank " + tok[3] + " but " +
                                   std::to_string(tok.size() - 4) + " dims given");
      for (int64_t i = 0; i < rank; ++i) {
        const int64_t d = detail::parse_int(path, ln, tok[static_cast<size_t>(4 + i)], "dimension");
        if (d < 0) detail::fail(path, ln, "tensor '" + t.name + "': negative dimension");
        t.dims.push_back(d);
      }
      if (fx.tensors.count(t.name)) detail::fail(path, ln, "tensor '" + t.name + "' appears twice");
      std::string data;
      if (!std::getline(in, data)) detail::fail(path, ln, "tensor '" + t.name + "': missing its value line");
      ++ln;
      std::vector<std::string> vals = detail::split(data);
      if (static_cast<int64_t>(vals.size()) != t.size())
        detail::fail(path, ln, "tensor '" + t.name + "' of shape " + t.shape_str() + " needs " +
                                   std::to_string(t.size()) + " values, got " + std::to_string(vals.size()));
      for (const std::string& v : vals) {
        if (t.dtype == "i64") {
          t.ints.push_back(detail::parse_int(path, ln, v, "integer value"));
          continue;
        }
        char* end = nullptr;
        errno = 0;
        // f32 values are parsed as float directly: exact for the '%.9g' the writer uses.
        const double x = t.dtype == "f32" ? static_cast<double>(std::strtof(v.c_str(), &end))
                                          : std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0' || (errno == ERANGE && !std::isfinite(x)))
          detail::fail(path, ln, "tensor '" + t.name + "': bad value '" + v + "'");
        t.values.push_back(x);
      }
      fx.order.push_back(t.name);
      fx.tensors.emplace(t.name, std::move(t));
    } else {
      detail::fail(path, ln, "unknown record '" + tok[0] + "'");
    }
  }
  if (!header) detail::fail(path, 0, "empty file (no 'reel-fixture 1' header)");
  if (!ended) detail::fail(path, 0, "truncated: no 'end' line");
  return fx;
}

// Every file in dir ending in suffix, sorted by name. Throws if dir does not exist.
inline std::vector<std::string> list_fixtures(const std::string& dir, const std::string& suffix = ".txt") {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("fixture directory " + dir + ": not found");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string p = e.path().string();
    if (e.is_regular_file() && p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace fixture
