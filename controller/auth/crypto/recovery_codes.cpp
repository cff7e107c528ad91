#include "controller/auth/crypto/recovery_codes.hpp"

#include <algorithm>

#include "shared/tls/random.hpp"

namespace derpmgr::controller::auth::recovery_codes {

namespace {

constexpr std::string_view alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr std::size_t groups = 3;
constexpr std::size_t group_length = 5;
constexpr std::size_t code_symbols = groups * group_length;

std::string format(std::string_view symbols) {
  std::string out;
  for (std::size_t g = 0; g < groups; ++g) {
    if (g > 0) {
      out.push_back('-');
    }
    out.append(symbols.substr(g * group_length, group_length));
  }
  return out;
}

std::string generate_one() {
  // 256 is a multiple of 32, so the low five bits of each random byte pick a symbol without bias.
  auto random = random_bytes(code_symbols);
  std::string symbols;
  for (unsigned char byte : random) {
    symbols.push_back(alphabet[byte & 0x1f]);
  }
  return format(symbols);
}

}  // namespace

std::vector<std::string> generate(std::size_t count) {
  std::vector<std::string> codes;
  while (codes.size() < count) {
    auto code = generate_one();
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) {
      codes.push_back(std::move(code));
    }
  }
  return codes;
}

std::optional<std::string> normalize(std::string_view input) {
  std::string symbols;
  for (char c : input) {
    if (c == '-' || c == ' ' || c == '\t') {
      continue;
    }
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c == 'o') {
      c = '0';
    } else if (c == 'i' || c == 'l') {
      c = '1';
    }
    if (alphabet.find(c) == std::string_view::npos || symbols.size() == code_symbols) {
      return std::nullopt;
    }
    symbols.push_back(c);
  }
  if (symbols.size() != code_symbols) {
    return std::nullopt;
  }
  return format(symbols);
}

}  // namespace derpmgr::controller::auth::recovery_codes
