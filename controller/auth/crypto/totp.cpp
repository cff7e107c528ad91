#include "controller/auth/crypto/totp.hpp"

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include <array>
#include <cstdlib>
#include <limits>
#include <memory>

#include "shared/tls/random.hpp"

namespace derpmgr::controller::auth::totp {

namespace {

void ensure_oath() {
  static const int rc = oath_init();
  if (rc != OATH_OK) {
    throw totp_error(std::string("liboath failed to initialise: ") + oath_strerror(rc));
  }
}

int oath_flags(totp_algorithm algorithm) {
  switch (algorithm) {
    case totp_algorithm::sha1:
      return 0;
    case totp_algorithm::sha256:
      return OATH_TOTP_HMAC_SHA256;
    case totp_algorithm::sha512:
      return OATH_TOTP_HMAC_SHA512;
  }
  throw totp_error("unknown TOTP algorithm");
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0x0f]);
    }
  }
  return out;
}

}  // namespace

std::string generate_secret() {
  return random_bytes(secret_size);
}

std::string base32(std::string_view bytes) {
  ensure_oath();
  char* raw = nullptr;
  std::size_t length = 0;
  int rc = oath_base32_encode(bytes.data(), bytes.size(), &raw, &length);
  std::unique_ptr<char, decltype(&std::free)> owned(raw, &std::free);
  if (rc != OATH_OK) {
    throw totp_error(std::string("base32 encoding failed: ") + oath_strerror(rc));
  }
  std::string out(raw, length);
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  return out;
}

std::int64_t step_at(time_point t) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  auto length = step_length.count();
  return seconds >= 0 ? seconds / length : -((-seconds + length - 1) / length);
}

std::string code(std::string_view secret, std::int64_t step, unsigned code_digits, totp_algorithm algorithm) {
  ensure_oath();
  if (step < 0 || step > std::numeric_limits<time_t>::max() / step_length.count()) {
    throw totp_error("TOTP step out of range");
  }
  if (code_digits < 6 || code_digits > 8) {
    throw totp_error("TOTP codes have 6 to 8 digits");
  }
  std::array<char, 9> out{};
  auto now = static_cast<time_t>(step * step_length.count());
  int rc = oath_totp_generate2(secret.data(), secret.size(), now, static_cast<unsigned>(step_length.count()), 0,
                               code_digits, oath_flags(algorithm), out.data());
  if (rc != OATH_OK) {
    throw totp_error(std::string("TOTP generation failed: ") + oath_strerror(rc));
  }
  return std::string(out.data(), code_digits);
}

std::optional<std::int64_t> verify(std::string_view secret, std::string_view input, time_point now) {
  std::string given;
  for (char c : input) {
    if (c == ' ') {
      continue;
    }
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    given.push_back(c);
  }
  if (given.size() != digits) {
    return std::nullopt;
  }
  auto current = step_at(now);
  std::optional<std::int64_t> matched;
  // All three candidates are computed and compared in constant time; the current step wins a (rare) tie.
  for (std::int64_t step : {current + 1, current - 1, current}) {
    if (step < 0) {
      continue;
    }
    auto expected = code(secret, step, digits, totp_algorithm::sha1);
    if (CRYPTO_memcmp(expected.data(), given.data(), digits) == 0) {
      matched = step;
    }
  }
  return matched;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret) {
  return "otpauth://totp/" + percent_encode(issuer) + ":" + percent_encode(account) + "?secret=" + base32(secret) +
         "&issuer=" + percent_encode(issuer) + "&algorithm=SHA1&digits=" + std::to_string(digits) +
         "&period=" + std::to_string(step_length.count());
}

}  // namespace derpmgr::controller::auth::totp
