#include "controller/audit/audit_cursor.hpp"

#include <charconv>

#include "controller/audit/audit_errors.hpp"

namespace derpmgr::controller::audit {

namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view prefix = "audit.v1.";
// Longer than any cursor this build issues (prefix + 20 digits, base64url).
constexpr std::size_t max_cursor_length = 64;

std::string base64url(std::string_view bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16U) | (static_cast<unsigned char>(bytes[i + 1]) << 8U) |
             static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(n >> 18U) & 63U];
    out += alphabet[(n >> 12U) & 63U];
    out += alphabet[(n >> 6U) & 63U];
    out += alphabet[n & 63U];
  }
  if (i + 1 == bytes.size()) {
    auto n = static_cast<unsigned char>(bytes[i]) << 16U;
    out += alphabet[(n >> 18U) & 63U];
    out += alphabet[(n >> 12U) & 63U];
  } else if (i + 2 == bytes.size()) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16U) | (static_cast<unsigned char>(bytes[i + 1]) << 8U);
    out += alphabet[(n >> 18U) & 63U];
    out += alphabet[(n >> 12U) & 63U];
    out += alphabet[(n >> 6U) & 63U];
  }
  return out;
}

[[noreturn]] void reject() {
  throw invalid_audit_cursor("cursor is not one this server issued");
}

std::string decode_base64url(std::string_view text) {
  if (text.size() % 4 == 1) {
    reject();
  }
  std::string out;
  unsigned int buffer = 0;
  int bits = 0;
  for (char c : text) {
    auto pos = alphabet.find(c);
    if (pos == std::string_view::npos) {
      reject();
    }
    buffer = (buffer << 6U) | static_cast<unsigned int>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> static_cast<unsigned int>(bits)) & 0xFFU);
    }
  }
  // Only the canonical spelling is accepted, so one position has exactly one cursor.
  if (base64url(out) != text) {
    reject();
  }
  return out;
}

}  // namespace

std::string encode_audit_cursor(std::uint64_t last_seq) {
  return base64url(std::string(prefix) + std::to_string(last_seq));
}

std::uint64_t decode_audit_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > max_cursor_length) {
    reject();
  }
  auto text = decode_base64url(cursor);
  if (!text.starts_with(prefix)) {
    reject();
  }
  std::string_view digits(text);
  digits.remove_prefix(prefix.size());
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq == 0 || digits.front() == '0') {
    reject();
  }
  return seq;
}

}  // namespace derpmgr::controller::audit
