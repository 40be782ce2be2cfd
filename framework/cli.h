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
  /// The range of the option declared last, checked by parse() (and shown in `--help`): an
  /// integer in [lo, hi], or a finite number in [lo, hi]. A value outside, or not a number, is a
  /// UsageError naming the flag, the value and the range.
  Cli& integer_in(int64_t lo, int64_t hi);
  /// As integer_in(), for a finite number in [lo, hi] (NaN and Inf refused).
  Cli& number_in(double lo, double hi);
  /// Parses argv; returns false if `--help` was given (help already printed to stdout). Throws
  /// UsageError on an unknown flag, a missing value or a stray argument.
  bool parse(int argc, char** argv);

  std::string str(const std::string& name) const;  ///< the value of `--name` as given, or its default
  int64_t integer(const std::string& name) const;  ///< the value as an integer; UsageError if it is not one
  double number(const std::string& name) const;  ///< the value as a number; UsageError if it is not one
  /// The value as a comma-separated list of integers, each in [lo, hi], at least one; UsageError
  /// naming the flag, the item and the range otherwise.
  std::vector<int64_t> integers(const std::string& name, int64_t lo, int64_t hi) const;
  bool on(const std::string& name) const;  ///< whether boolean flag `--name` was given
  bool given(const std::string& name) const;  ///< whether `--name` was on the command line (not defaulted)
  /// Whether `--name` was declared (the getters throw UsageError for an undeclared one)
  bool declared(const std::string& name) const { return opts_.count(name) > 0; }
  std::string help() const;  ///< the usage text `--help` prints

 private:
  struct Opt {
    std::string value, help;
    bool is_flag = false, given = false;
    char range = 0;  // 'i': integer in [lo, hi]; 'n': number in [lo, hi]
    double lo = 0, hi = 0;
  };
  void check_range(const std::string& name, const Opt& o) const;
  const Opt& get(const std::string& name) const;
  std::string program_, description_;
  std::map<std::string, Opt> opts_;
  std::vector<std::string> order_;
};

}  // namespace reel
