#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/clock/clock.hpp"

namespace derpmgr::controller::auth {

// liboath could not compute a code (bad digits, negative step, library failure).
class totp_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The HMAC behind a TOTP code; accounts use sha1 (what authenticator apps support), the others exist for RFC vectors.
enum class totp_algorithm { sha1, sha256, sha512 };

// RFC 6238 time-based one-time passwords (liboath): HMAC-SHA1, 6 digits, 30 s steps, ±1 step of clock drift.
namespace totp {

inline constexpr unsigned digits = 6;
inline constexpr std::chrono::seconds step_length{30};
inline constexpr std::size_t secret_size = 20;

// A new shared secret: 20 raw bytes from the CSPRNG (store it sealed, show it as base32).
std::string generate_secret();

// RFC 4648 base32 of `bytes`, uppercase and unpadded, as authenticator apps take secrets.
std::string base32(std::string_view bytes);

// The step containing `t`: floor(unix seconds / 30).
std::int64_t step_at(time_point t);

// The code for `step` (RFC 6238 T); throws totp_error on a negative step or unsupported digits (6–8).
std::string code(std::string_view secret, std::int64_t step, unsigned code_digits, totp_algorithm algorithm);

// The step within ±1 of `now` whose code equals `input` (spaces ignored), or nullopt. A step must be accepted once:
// the caller records it with `UPDATE … SET last_step = ? WHERE … AND last_step < ?` and refuses when no row changes.
std::optional<std::int64_t> verify(std::string_view secret, std::string_view input, time_point now);

// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30, percent-encoded, for QR codes.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace totp

}  // namespace derpmgr::controller::auth
