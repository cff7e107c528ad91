#include "controller/auth/crypto/password_policy.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace derpmgr::controller::auth;

namespace {

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) {
    out += piece;
  }
  return out;
}

}  // namespace

TEST_CASE("length is 10 to 128 code points") {
  password_policy policy;
  auto short_one = policy.check("aB3$xY7&q");
  CHECK(short_one.problem == password_problem::too_short);
  CHECK(to_string(short_one.problem) == "too_short");
  CHECK(short_one.message == "password must be at least 10 characters");
  CHECK(policy.check("aB3$xY7&qZ").ok());
  CHECK(policy.check(repeat("k", 128)).ok());
  auto long_one = policy.check(repeat("k", 129));
  CHECK(long_one.problem == password_problem::too_long);
  CHECK(to_string(long_one.problem) == "too_long");
}

TEST_CASE("length counts code points, not bytes") {
  password_policy policy;
  // "密" is 3 bytes and "😀" 4: nine of them are 27/36 bytes but still too short.
  CHECK(policy.check(repeat("\xe5\xaf\x86", 9)).problem == password_problem::too_short);
  CHECK(policy.check(repeat("\xe5\xaf\x86", 10)).ok());
  CHECK(policy.check(repeat("\xf0\x9f\x98\x80", 128)).ok());
  CHECK(policy.check(repeat("\xf0\x9f\x98\x80", 129)).problem == password_problem::too_long);
  CHECK(policy.check("caf\xc3\xa9" + repeat("\xe5\xaf\x86", 124)).ok());
}

TEST_CASE("common passwords are refused in any case") {
  password_policy policy;
  for (const char* common : {"1234567890", "qwertyuiop", "password123", "iloveyou12", "PassWord123", "QWERTYUIOP",
                             "IloveYou12", "1q2w3e4r5t", "woaini1314"}) {
    CAPTURE(common);
    auto verdict = policy.check(common);
    CHECK(verdict.problem == password_problem::common);
    CHECK(to_string(verdict.problem) == "common");
  }
  CHECK(policy.check("correct horse battery staple").ok());
}

TEST_CASE("invalid UTF-8 is refused") {
  password_policy policy;
  const std::string tail = "abcdefghij";
  for (const std::string& bad :
       {std::string("\xff") + tail, std::string("\xc3") + tail, tail + "\xe5\xaf", std::string("\xc0\xaf") + tail,
        std::string("\xed\xa0\x80") + tail, std::string("\xf4\x90\x80\x80") + tail, std::string("\x80") + tail}) {
    auto verdict = policy.check(bad);
    CHECK(verdict.problem == password_problem::invalid_utf8);
    CHECK(to_string(verdict.problem) == "invalid_utf8");
  }
}

TEST_CASE("messages never repeat the password") {
  password_policy policy;
  CHECK(policy.check("password123").message.find("password123") == std::string::npos);
}
