#include "controller/accounts/email_address.hpp"

#include <algorithm>
#include <cctype>

namespace derpmgr::controller::accounts {

std::optional<std::string> normalize_email(const std::string& input) {
  auto first = input.find_first_not_of(" \t");
  if (first == std::string::npos) {
    return std::nullopt;
  }
  std::string s = input.substr(first, input.find_last_not_of(" \t") - first + 1);
  if (s.size() > 254 || s.size() < 6) {
    return std::nullopt;
  }
  auto at = s.rfind('@');
  if (at == std::string::npos || at == 0 || at > 64 || s.find('@') != at) {
    return std::nullopt;
  }
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == '\\') {
      return std::nullopt;
    }
  }
  std::string domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 2 > domain.size() || domain.find("..") != std::string::npos ||
      domain.front() == '-' || domain.front() == '.') {
    return std::nullopt;
  }
  // Stored lower-case: one account per mailbox, whatever case people type.
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace derpmgr::controller::accounts
