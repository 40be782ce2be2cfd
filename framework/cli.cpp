#include "framework/cli.h"

#include <cerrno>
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

std::string Cli::help() const {
  std::string h = "usage: " + program_ + " [options]\n" + description_ + "\n\noptions:\n";
  for (const auto& name : order_) {
    const Opt& o = opts_.at(name);
    std::string left = "  --" + name + (o.is_flag ? "" : " VALUE");
    if (left.size() < 26) left.resize(26, ' ');
    h += left + " " + o.help + (o.is_flag ? "" : " (default: " + (o.value.empty() ? "none" : o.value) + ")") + "\n";
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
  if (v.empty() || *end || errno == ERANGE) throw UsageError(program_ + ": --" + name + " expects a number, got '" + v + "'");
  return x;
}

}  // namespace reel
