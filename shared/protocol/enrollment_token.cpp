#include "shared/protocol/enrollment_token.hpp"

#include <stdexcept>

namespace derpmgr::protocol {

namespace {

constexpr std::string_view prefix = "dmt1.";

bool is_hex(const std::string& s, std::size_t length) {
  if (s.size() != length) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string format_enrollment_token(const enrollment_token_parts& parts) {
  return std::string(prefix) + parts.secret + "." + parts.ca_fingerprint;
}

enrollment_token_parts parse_enrollment_token(const std::string& text) {
  if (text.rfind(prefix, 0) != 0) {
    throw std::invalid_argument("not an enrollment token");
  }
  auto dot = text.find('.', prefix.size());
  if (dot == std::string::npos) {
    throw std::invalid_argument("not an enrollment token");
  }
  enrollment_token_parts parts{text.substr(prefix.size(), dot - prefix.size()), text.substr(dot + 1)};
  if (!is_hex(parts.secret, 32) || !is_hex(parts.ca_fingerprint, 64)) {
    throw std::invalid_argument("not an enrollment token");
  }
  return parts;
}

}  // namespace derpmgr::protocol
