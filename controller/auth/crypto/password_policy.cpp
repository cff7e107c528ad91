#include "controller/auth/crypto/password_policy.hpp"

#include <optional>

#include "controller/auth/crypto/common_passwords.hpp"

namespace derpmgr::controller::auth {

namespace {

// Number of code points in strictly valid UTF-8 (RFC 3629: no overlong forms, surrogates or values past
// U+10FFFF), or nullopt.
std::optional<std::size_t> count_code_points(std::string_view text) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
      length = 1;
      value = lead;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      value = lead & 0x1f;
      minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      value = lead & 0x0f;
      minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      value = lead & 0x07;
      minimum = 0x10000;
    } else {
      return std::nullopt;
    }
    if (text.size() - i < length) {
      return std::nullopt;
    }
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) {
        return std::nullopt;
      }
      value = (value << 6) | (next & 0x3f);
    }
    if (value < minimum || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
      return std::nullopt;
    }
    i += length;
    ++count;
  }
  return count;
}

// ASCII-only lowercase: the list is ASCII, and folding other scripts would need Unicode tables for no gain.
std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string_view trim(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    line.remove_prefix(1);
  }
  return line;
}

password_verdict refuse(password_problem problem, std::string message) {
  return password_verdict{problem, std::move(message)};
}

}  // namespace

std::string_view to_string(password_problem problem) {
  switch (problem) {
    case password_problem::none:
      return "none";
    case password_problem::too_short:
      return "too_short";
    case password_problem::too_long:
      return "too_long";
    case password_problem::common:
      return "common";
    case password_problem::invalid_utf8:
      return "invalid_utf8";
  }
  return "unknown";
}

password_policy::password_policy() {
  std::string_view text = embedded_common_passwords();
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.front() != '#') {
      common_.insert(ascii_lower(line));
    }
  }
}

password_verdict password_policy::check(std::string_view password) const {
  auto length = count_code_points(password);
  if (!length) {
    return refuse(password_problem::invalid_utf8, "password is not valid UTF-8");
  }
  if (*length < min_code_points) {
    return refuse(password_problem::too_short,
                  "password must be at least " + std::to_string(min_code_points) + " characters");
  }
  if (*length > max_code_points) {
    return refuse(password_problem::too_long,
                  "password must be at most " + std::to_string(max_code_points) + " characters");
  }
  if (common_.contains(ascii_lower(password))) {
    return refuse(password_problem::common, "password is too common; choose another");
  }
  return password_verdict{};
}

}  // namespace derpmgr::controller::auth
