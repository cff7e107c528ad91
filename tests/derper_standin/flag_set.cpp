#include "tests/derper_standin/flag_set.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>

namespace derpmgr::standin {

namespace {

// Go's strconv.ParseBool.
std::optional<bool> parse_go_bool(std::string_view s) {
  for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == yes) {
      return true;
    }
  }
  for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == no) {
      return false;
    }
  }
  return std::nullopt;
}

// Go's strconv.ParseInt(s, 0, 64): optional sign, then 0x / 0o / 0b / leading-0 octal prefixes or decimal.
// Underscores, which Go allows between digits after a base prefix, are simply dropped there.
long long parse_go_int(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  std::string digits(s);
  if (s.size() >= 2 && s[0] == '0') {
    char prefix = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    std::size_t skip = 2;
    if (prefix == 'x') {
      base = 16;
    } else if (prefix == 'b') {
      base = 2;
    } else if (prefix == 'o') {
      base = 8;
    } else {
      base = 8;
      skip = 1;
    }
    digits = std::string(s.substr(skip));
    std::erase(digits, '_');
  }
  unsigned long long magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (digits.empty() || end != digits.data() + digits.size() || ec == std::errc::invalid_argument) {
    throw flag_error("parse error");
  }
  constexpr auto max = static_cast<unsigned long long>(std::numeric_limits<long long>::max());
  if (ec == std::errc::result_out_of_range || magnitude > max + (negative ? 1 : 0)) {
    throw flag_error("value out of range");
  }
  if (negative) {
    return magnitude == max + 1 ? std::numeric_limits<long long>::min() : -static_cast<long long>(magnitude);
  }
  return static_cast<long long>(magnitude);
}

// Go's strconv.ParseFloat(s, 64), closely enough: decimal or hex floats, "inf", "infinity", "nan".
void check_go_float(const std::string& s) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front())) != 0) {
    throw flag_error("parse error");
  }
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) {
    throw flag_error("parse error");
  }
  if (errno == ERANGE && std::isinf(value)) {
    throw flag_error("value out of range");
  }
}

// Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0"; units ns us µs μs ms s m h.
void check_go_duration(std::string_view s) {
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    s.remove_prefix(1);
  }
  if (s == "0") {
    return;
  }
  if (s.empty()) {
    throw flag_error("parse error");
  }
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  long double total_ns = 0;
  while (!s.empty()) {
    if (!(s.front() == '.' || is_digit(s.front()))) {
      throw flag_error("parse error");
    }
    std::size_t i = 0;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    bool whole = i > 0;
    bool fraction = false;
    if (i < s.size() && s[i] == '.') {
      std::size_t start = ++i;
      while (i < s.size() && is_digit(s[i])) {
        ++i;
      }
      fraction = i > start;
    }
    if (!whole && !fraction) {
      throw flag_error("parse error");
    }
    long double number = std::strtold(std::string(s.substr(0, i)).c_str(), nullptr);
    s.remove_prefix(i);
    std::size_t unit_end = 0;
    while (unit_end < s.size() && s[unit_end] != '.' && !is_digit(s[unit_end])) {
      ++unit_end;
    }
    std::string_view unit = s.substr(0, unit_end);
    s.remove_prefix(unit_end);
    long double scale = 0;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      scale = 1e3L;
    } else if (unit == "ms") {
      scale = 1e6L;
    } else if (unit == "s") {
      scale = 1e9L;
    } else if (unit == "m") {
      scale = 60e9L;
    } else if (unit == "h") {
      scale = 3600e9L;
    } else {
      throw flag_error("parse error");
    }
    total_ns += number * scale;
  }
  if (total_ns > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
    throw flag_error("parse error");
  }
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

flag_set::flag_set(std::string program, std::vector<flag_spec> specs) : program_(std::move(program)) {
  for (flag_spec& s : specs) {
    values_[s.name] = s.default_value;
    set_[s.name] = false;
    specs_.emplace(s.name, std::move(s));
  }
}

void flag_set::parse(const std::vector<std::string>& args) {
  std::size_t next = 0;
  while (next < args.size()) {
    const std::string& arg = args[next];
    if (arg.size() < 2 || arg[0] != '-') {
      break;
    }
    std::size_t dashes = arg[1] == '-' ? 2 : 1;
    if (dashes == 2 && arg.size() == 2) {
      ++next;
      break;
    }
    std::string name = arg.substr(dashes);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      throw flag_error("bad flag syntax: " + arg);
    }
    ++next;
    std::optional<std::string> value;
    if (auto eq = name.find('=', 1); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto found = specs_.find(name);
    if (found == specs_.end()) {
      if (name == "help" || name == "h") {
        throw flag_help();
      }
      throw flag_error("flag provided but not defined: -" + name);
    }
    const flag_spec& s = found->second;
    if (s.kind == flag_kind::boolean) {
      auto parsed = parse_go_bool(value.value_or("true"));
      if (!parsed) {
        throw flag_error("invalid boolean value " + quoted(*value) + " for -" + name + ": parse error");
      }
      values_[name] = *parsed ? "true" : "false";
      set_[name] = true;
      continue;
    }
    if (!value) {
      if (next == args.size()) {
        throw flag_error("flag needs an argument: -" + name);
      }
      value = args[next++];
    }
    try {
      set(s, *value);
    } catch (const flag_error& e) {
      throw flag_error("invalid value " + quoted(*value) + " for flag -" + name + ": " + e.what());
    }
  }
  remaining_.assign(args.begin() + static_cast<std::ptrdiff_t>(next), args.end());
}

void flag_set::set(const flag_spec& s, const std::string& value) {
  switch (s.kind) {
    case flag_kind::integer:
      values_[s.name] = std::to_string(parse_go_int(value));
      break;
    case flag_kind::floating:
      check_go_float(value);
      values_[s.name] = value;
      break;
    case flag_kind::duration:
      check_go_duration(value);
      values_[s.name] = value;
      break;
    case flag_kind::string:
    case flag_kind::boolean:
      values_[s.name] = value;
      break;
  }
  set_[s.name] = true;
}

const flag_spec& flag_set::spec(std::string_view name) const {
  auto found = specs_.find(name);
  if (found == specs_.end()) {
    throw std::logic_error("no such flag: " + std::string(name));
  }
  return found->second;
}

const std::string& flag_set::text(std::string_view name) const {
  spec(name);
  return values_.find(name)->second;
}

bool flag_set::boolean(std::string_view name) const {
  return text(name) == "true";
}

long long flag_set::integer(std::string_view name) const {
  return parse_go_int(text(name));
}

bool flag_set::was_set(std::string_view name) const {
  spec(name);
  return set_.find(name)->second;
}

std::string flag_set::usage() const {
  std::string out = "Usage of " + program_ + ":\n";
  for (const auto& [name, s] : specs_) {
    out += "  -" + name;
    switch (s.kind) {
      case flag_kind::string:
        out += " string";
        break;
      case flag_kind::integer:
        out += " int";
        break;
      case flag_kind::floating:
        out += " float";
        break;
      case flag_kind::duration:
        out += " duration";
        break;
      case flag_kind::boolean:
        break;
    }
    out += "\n    \t" + s.usage;
    bool zero = s.default_value.empty() || s.default_value == "false" || s.default_value == "0";
    if (!zero) {
      out += " (default " + (s.kind == flag_kind::string ? quoted(s.default_value) : s.default_value) + ")";
    }
    out += "\n";
  }
  return out;
}

}  // namespace derpmgr::standin
