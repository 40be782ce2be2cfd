#include "framework/cli.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "framework/error.h"

namespace reel {

Cli::Cli(std::string program, std::string description) : program_(std::move(program)), description_(std::move(description)) {}

Cli& Cli::option(const std::string& name, const std::string& default_value, const std::string& help) {
  opts_[name] = Opt{default_value, help, false, false};
  order_.push_back(name);
  return *this;
}

Cli& Cli::flag(const std::string& name, const std::string& help) {
  opts_[name] = Opt{"0", help, true, false};
  order_.push_back(name);
  return *this;
}

Cli& Cli::integer_in(int64_t lo, int64_t hi) {
  if (order_.empty()) throw UsageError(program_ + ": integer_in() before any option");
  Opt& o = opts_.at(order_.back());
  o.range = 'i';
  o.lo = static_cast<double>(lo);
  o.hi = static_cast<double>(hi);
  return *this;
}

Cli& Cli::number_in(double lo, double hi) {
  if (order_.empty()) throw UsageError(program_ + ": number_in() before any option");
  Opt& o = opts_.at(order_.back());
  o.range = 'n';
  o.lo = lo;
  o.hi = hi;
  return *this;
}

static std::string fmt_bound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

void Cli::check_range(const std::string& name, const Opt& o) const {
  if (!o.range) return;
  const std::string range = fmt_bound(o.lo) + ".." + fmt_bound(o.hi);
  const std::string what = program_ + ": --" + name + " " + (o.value.empty() ? "''" : o.value) + ": ";
  if (o.range == 'i') {
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(o.value.c_str(), &end, 10);
    if (o.value.empty() || *end || errno == ERANGE)
      throw UsageError(what + "not an integer (expected an integer in " + range + ")");
    if (static_cast<double>(x) < o.lo || static_cast<double>(x) > o.hi)
      throw UsageError(what + "outside the range " + range);
  } else {
    char* end = nullptr;
    const double x = std::strtod(o.value.c_str(), &end);
    if (o.value.empty() || *end || !std::isfinite(x))
      throw UsageError(what + "not a finite number (expected a number in " + range + ")");
    if (x < o.lo || x > o.hi) throw UsageError(what + "outside the range " + range);
  }
}

std::string Cli::help() const {
  std::string h = "usage: " + program_ + " [options]\n" + description_ + "\n\noptions:\n";
  for (const auto& name : order_) {
    const Opt& o = opts_.at(name);
    std::string left = "  --" + name + (o.is_flag ? "" : " VALUE");
    if (left.size() < 26) left.resize(26, ' ');
    const std::string range = o.range ? ", " + fmt_bound(o.lo) + ".." + fmt_bound(o.hi) : "";
    h += left + " " + o.help + (o.is_flag ? "" : " (default: " + (o.value.empty() ? "none" : o.value) + range + ")") + "\n";
  }
  return h + "  --help                   show this help\n";
}

bool Cli::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (a.rfind("--", 0) != 0) throw UsageError(program_ + ": unexpected argument '" + a + "' (flags start with --; see --help)");
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = opts_.find(name);
    if (it == opts_.end()) throw UsageError(program_ + ": unknown flag '--" + name + "' (see --help)");
    Opt& o = it->second;
    if (o.is_flag) {
      if (inline_value) throw UsageError(program_ + ": flag '--" + name + "' takes no value");
      value = "1";
    } else if (!inline_value) {
      if (i + 1 >= argc) throw UsageError(program_ + ": flag '--" + name + "' needs a value");
      value = argv[++i];
    }
    o.value = value;
    o.given = true;
  }
  for (const auto& name : order_) check_range(name, opts_.at(name));
  return true;
}

const Cli::Opt& Cli::get(const std::string& name) const {
  auto it = opts_.find(name);
  if (it == opts_.end()) throw UsageError(program_ + ": no flag '--" + name + "' was declared");
  return it->second;
}

std::string Cli::str(const std::string& name) const { return get(name).value; }
bool Cli::on(const std::string& name) const { return get(name).value == "1"; }
bool Cli::given(const std::string& name) const { return get(name).given; }

int64_t Cli::integer(const std::string& name) const {
  const std::string& v = get(name).value;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno == ERANGE) throw UsageError(program_ + ": --" + name + " expects an integer, got '" + v + "'");
  return x;
}

double Cli::number(const std::string& name) const {
  const std::string& v = get(name).value;
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || errno == ERANGE || !std::isfinite(x))
    throw UsageError(program_ + ": --" + name + " expects a finite number, got '" + v + "'");
  return x;
}

std::vector<int64_t> Cli::integers(const std::string& name, int64_t lo, int64_t hi) const {
  const std::string& v = get(name).value;
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = std::min(v.find(',', start), v.size());
    const std::string item = v.substr(start, comma - start);
    char* end = nullptr;
    errno = 0;
    const long long x = item.empty() ? 0 : std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end || errno == ERANGE || x < lo || x > hi)
      throw UsageError(program_ + ": --" + name + " '" + v + "': item '" + item + "' is not an integer in the range " +
                       std::to_string(lo) + ".." + std::to_string(hi) + " (a comma-separated list is expected)");
    out.push_back(x);
    start = comma + 1;
  }
  return out;
}

}  // namespace reel
