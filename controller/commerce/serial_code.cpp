#include "controller/commerce/serial_code.hpp"

#include <array>
#include <cctype>

#include "shared/tls/random.hpp"

namespace derpmgr::controller::commerce::serial_code {

namespace {

constexpr std::string_view symbols = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32
constexpr std::string_view check_symbols = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
constexpr std::size_t payload_length = 21;  // 105 bits
constexpr std::string_view prefix = "DERP";

// The payload's value mod 37, computed digit by digit (the value itself has 105 bits).
char check_symbol(std::string_view payload) {
  unsigned remainder = 0;
  for (char c : payload) {
    remainder = (remainder * 32 + static_cast<unsigned>(symbols.find(c))) % 37;
  }
  return check_symbols[remainder];
}

std::string format(const std::string& payload) {
  std::string body = payload + check_symbol(payload);
  std::string out(prefix);
  for (std::size_t i = 0; i < body.size(); i += 5) {
    out += "-" + body.substr(i, 5);
  }
  return out;
}

char decode_symbol(char c) {
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (c == 'O') {
    return '0';
  }
  if (c == 'I' || c == 'L') {
    return '1';
  }
  return c;
}

}  // namespace

std::string generate() {
  auto bytes = random_bytes(payload_length);
  std::string payload;
  payload.reserve(payload_length);
  for (unsigned char b : bytes) {
    payload.push_back(symbols[b & 31]);  // low 5 bits of each byte: uniform over 32 symbols
  }
  return format(payload);
}

std::optional<std::string> normalize(std::string_view input) {
  std::string compact;
  for (char c : input) {
    if (c == '-' || c == ' ' || c == '\t') {
      continue;
    }
    compact.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (compact.rfind(prefix, 0) != 0) {
    return std::nullopt;
  }
  compact.erase(0, prefix.size());
  if (compact.size() != payload_length + 1) {
    return std::nullopt;
  }
  std::string payload;
  for (std::size_t i = 0; i < payload_length; ++i) {
    char c = decode_symbol(compact[i]);
    if (symbols.find(c) == std::string_view::npos) {
      return std::nullopt;
    }
    payload.push_back(c);
  }
  char check = compact.back();
  if (check != '*' && check != '~' && check != '$' && check != '=') {
    check = decode_symbol(check);
  }
  if (check != check_symbol(payload)) {
    return std::nullopt;
  }
  return format(payload);
}

std::string last_four(const std::string& canonical) {
  return canonical.size() >= 4 ? canonical.substr(canonical.size() - 4) : canonical;
}

}  // namespace derpmgr::controller::commerce::serial_code
