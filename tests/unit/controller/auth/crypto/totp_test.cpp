#include "controller/auth/crypto/totp.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace derpmgr::controller::auth;
using derpmgr::time_point;

namespace {

const std::string rfc_secret = "12345678901234567890";

time_point at_seconds(std::int64_t seconds) {
  return time_point(std::chrono::seconds(seconds));
}

}  // namespace

TEST_CASE("RFC 6238 appendix B vectors (SHA-1, 8 digits)") {
  struct vector {
    std::int64_t unix_time;
    const char* expected;
  };
  for (auto v : {vector{59, "94287082"}, vector{1111111109, "07081804"}, vector{1111111111, "14050471"},
                 vector{1234567890, "89005924"}, vector{2000000000, "69279037"}, vector{20000000000, "65353130"}}) {
    CAPTURE(v.unix_time);
    CHECK(totp::code(rfc_secret, totp::step_at(at_seconds(v.unix_time)), 8, totp_algorithm::sha1) == v.expected);
  }
}

TEST_CASE("RFC 6238 appendix B vectors (SHA-256 and SHA-512)") {
  const std::string secret32 = "12345678901234567890123456789012";
  const std::string secret64 = "1234567890123456789012345678901234567890123456789012345678901234";
  CHECK(totp::code(secret32, totp::step_at(at_seconds(59)), 8, totp_algorithm::sha256) == "46119246");
  CHECK(totp::code(secret32, totp::step_at(at_seconds(1111111109)), 8, totp_algorithm::sha256) == "68084774");
  CHECK(totp::code(secret64, totp::step_at(at_seconds(59)), 8, totp_algorithm::sha512) == "90693936");
  CHECK(totp::code(secret64, totp::step_at(at_seconds(20000000000)), 8, totp_algorithm::sha512) == "47863826");
}

TEST_CASE("codes are refused for bad digits or steps") {
  CHECK_THROWS_AS(totp::code(rfc_secret, 1, 5, totp_algorithm::sha1), totp_error);
  CHECK_THROWS_AS(totp::code(rfc_secret, 1, 9, totp_algorithm::sha1), totp_error);
  CHECK_THROWS_AS(totp::code(rfc_secret, -1, 6, totp_algorithm::sha1), totp_error);
}

TEST_CASE("steps are 30 seconds from the epoch") {
  CHECK(totp::step_at(at_seconds(0)) == 0);
  CHECK(totp::step_at(at_seconds(29)) == 0);
  CHECK(totp::step_at(at_seconds(30)) == 1);
  CHECK(totp::step_at(at_seconds(59) + std::chrono::microseconds(999999)) == 1);
  CHECK(totp::step_at(at_seconds(1111111109)) == 37037036);
}

TEST_CASE("verify accepts ±1 step, returns the matched step and refuses ±2") {
  auto secret = totp::generate_secret();
  REQUIRE(secret.size() == totp::secret_size);
  auto now = at_seconds(1'700'000'015);
  auto current = totp::step_at(now);
  auto code_for = [&secret](std::int64_t step) { return totp::code(secret, step, 6, totp_algorithm::sha1); };

  CHECK(totp::verify(secret, code_for(current), now) == current);
  CHECK(totp::verify(secret, code_for(current - 1), now) == current - 1);
  CHECK(totp::verify(secret, code_for(current + 1), now) == current + 1);
  auto too_old = code_for(current - 2);
  auto too_new = code_for(current + 2);
  if (too_old != code_for(current - 1) && too_old != code_for(current) && too_old != code_for(current + 1)) {
    CHECK_FALSE(totp::verify(secret, too_old, now).has_value());
  }
  if (too_new != code_for(current - 1) && too_new != code_for(current) && too_new != code_for(current + 1)) {
    CHECK_FALSE(totp::verify(secret, too_new, now).has_value());
  }
}

TEST_CASE("verify ignores spaces and refuses malformed input") {
  auto now = at_seconds(59);
  auto code = totp::code(rfc_secret, 1, 6, totp_algorithm::sha1);
  CHECK(code == "287082");
  CHECK(totp::verify(rfc_secret, "287 082", now) == 1);
  CHECK_FALSE(totp::verify(rfc_secret, "28708", now).has_value());
  CHECK_FALSE(totp::verify(rfc_secret, "2870823", now).has_value());
  CHECK_FALSE(totp::verify(rfc_secret, "28708a", now).has_value());
  CHECK_FALSE(totp::verify(rfc_secret, "", now).has_value());
  CHECK_FALSE(totp::verify(rfc_secret, "-87082", now).has_value());
}

TEST_CASE("secrets are random and shown as unpadded base32") {
  CHECK(totp::generate_secret() != totp::generate_secret());
  CHECK(totp::base32("12345678901234567890") == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  CHECK(totp::base32("f") == "MY");
  CHECK(totp::base32("foobar") == "MZXW6YTBOI");
  CHECK(totp::base32(totp::generate_secret()).size() == 32);
}

TEST_CASE("otpauth URIs percent-encode issuer and account") {
  CHECK(totp::otpauth_uri("derpmgr", "alice@example.com", rfc_secret) ==
        "otpauth://totp/derpmgr:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=derpmgr"
        "&algorithm=SHA1&digits=6&period=30");
  auto uri = totp::otpauth_uri("ACME Relays & Co", "bob+x@ex.com", rfc_secret);
  CHECK(uri.starts_with("otpauth://totp/ACME%20Relays%20%26%20Co:bob%2Bx%40ex.com?secret="));
  CHECK(uri.find("&issuer=ACME%20Relays%20%26%20Co&") != std::string::npos);
  CHECK(totp::otpauth_uri("d", "\xe5\xbc\xa0", rfc_secret).starts_with("otpauth://totp/d:%E5%BC%A0?"));
}
