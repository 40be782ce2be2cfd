#pragma once
/// \file
/// A small flag parser for reel's programs: `--name VALUE` or `--name=VALUE`, `--flag` for booleans,
/// `--help` (or `-h`): the usage on stdout, and parse() returns false (the program then exits 0).
/// Unknown flags and bad values throw UsageError with a message naming them.
#include <map>
#include <string>
#include <vector>

namespace reel {

/// The flags of one program (see the file description): declare them, parse(), then read them.
class Cli {
 public:
  /// A parser for program (its name in messages and `--help`), described in `--help` by description.
  Cli(std::string program, std::string description);
  /// Declares `--name VALUE` with its default (shown in `--help`); returns *this to chain declarations.
  Cli& option(const std::string& name, const std::string& default_value, const std::string& help);
  /// Declares a boolean `--name`, off unless given; returns *this.
  Cli& flag(const std::string& name, const std::string& help);
  /// Parses argv; returns false if `--help` was given (help already printed to stdout). Throws
  /// UsageError on an unknown flag, a missing value or a stray argument.
  bool parse(int argc, char** argv);

  std::string str(const std::string& name) const;  ///< the value of `--name` as given, or its default
  int64_t integer(const std::string& name) const;  ///< the value as an integer; UsageError if it is not one
  double number(const std::string& name) const;  ///< the value as a number; UsageError if it is not one
  bool on(const std::string& name) const;  ///< whether boolean flag `--name` was given
  bool given(const std::string& name) const;  ///< whether `--name` was on the command line (not defaulted)
  /// Whether `--name` was declared (the getters throw UsageError for an undeclared one)
  bool declared(const std::string& name) const { return opts_.count(name) > 0; }
  std::string help() const;  ///< the usage text `--help` prints

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
