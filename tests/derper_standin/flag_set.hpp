#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace derpmgr::standin {

// The value types Go's flag package offers that derper uses.
enum class flag_kind { boolean, string, integer, floating, duration };

// One flag: its name without dashes, type, default (as Go prints it) and help text.
struct flag_spec {
  std::string name;
  flag_kind kind = flag_kind::string;
  std::string default_value;
  std::string usage;
};

// Bad command line, worded like Go's flag package; the caller prints it with the usage and exits 2.
class flag_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `-h` or `-help` was given; the caller prints the usage and exits 0, as Go's flag.ExitOnError does.
class flag_help : public std::exception {
 public:
  const char* what() const noexcept override { return "help requested"; }
};

// A command line parsed with the rules of Go's `flag` package: `-name value`, `-name=value`, one or two dashes,
// boolean flags only as `-name` or `-name=<bool>`, parsing stops at the first non-flag argument or after `--`.
class flag_set {
 public:
  flag_set(std::string program, std::vector<flag_spec> specs);

  // Parses `args` (without the program name). Throws flag_error or flag_help.
  void parse(const std::vector<std::string>& args);

  // The flag's value as text (its default when not given); booleans read "true"/"false". Throws on unknown names.
  const std::string& text(std::string_view name) const;
  bool boolean(std::string_view name) const;
  long long integer(std::string_view name) const;
  // True when the command line set the flag.
  bool was_set(std::string_view name) const;
  // Arguments after the flags.
  const std::vector<std::string>& remaining() const { return remaining_; }

  // Go-style "Usage of <program>:" followed by one entry per flag.
  std::string usage() const;

 private:
  const flag_spec& spec(std::string_view name) const;
  void set(const flag_spec& spec, const std::string& value);

  std::string program_;
  std::map<std::string, flag_spec, std::less<>> specs_;
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, bool, std::less<>> set_;
  std::vector<std::string> remaining_;
};

}  // namespace derpmgr::standin
