#pragma once
/// \file
/// A small flag parser for reel's programs: --name VALUE or --name=VALUE, --flag for booleans,
/// --help (or -h): the usage on stdout, and parse() returns false (the program then exits 0).
/// Unknown flags and bad values throw UsageError with a message naming them.
#include <map>
#include <string>
#include <vector>

namespace reel {

class Cli {
 public:
  Cli(std::string program, std::string description);
  /// Declare a flag with its default (shown in --help).
  Cli& option(const std::string& name, const std::string& default_value, const std::string& help);
  Cli& flag(const std::string& name, const std::string& help);
  /// Parses argv; returns false if --help was given (help already printed to stdout).
  bool parse(int argc, char** argv);

  std::string str(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool on(const std::string& name) const;
  bool given(const std::string& name) const;
  bool declared(const std::string& name) const { return opts_.count(name) > 0; }
  std::string help() const;

 private:
  struct Opt {
    std::string value, help;
    bool is_flag = false, given = false;
  };
  const Opt& get(const std::string& name) const;
  std::string program_, description_;
  std::map<std::string, Opt> opts_;
  std::vector<std::string> order_;
};

}  // namespace reel
