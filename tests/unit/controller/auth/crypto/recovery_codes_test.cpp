#include "controller/auth/crypto/recovery_codes.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace derpmgr::controller::auth;

TEST_CASE("recovery codes are ten distinct xxxxx-xxxxx-xxxxx codes") {
  auto codes = recovery_codes::generate();
  REQUIRE(codes.size() == 10);
  std::set<std::string> distinct(codes.begin(), codes.end());
  CHECK(distinct.size() == 10);
  for (const auto& code : codes) {
    CAPTURE(code);
    REQUIRE(code.size() == 17);
    CHECK(code[5] == '-');
    CHECK(code[11] == '-');
    CHECK(code.find_first_not_of("0123456789abcdefghjkmnpqrstvwxyz-") == std::string::npos);
    CHECK(recovery_codes::normalize(code) == code);
  }
  CHECK(recovery_codes::generate(3).size() == 3);
}

TEST_CASE("recovery codes use the whole alphabet (about 75 random bits each)") {
  std::set<char> seen;
  for (const auto& code : recovery_codes::generate(200)) {
    seen.insert(code.begin(), code.end());
  }
  seen.erase('-');
  CHECK(seen.size() == 32);
}

TEST_CASE("normalize ignores case, dashes and spaces and reads look-alikes") {
  CHECK(recovery_codes::normalize("ABCDE-FGH12-34567") == "abcde-fgh12-34567");
  CHECK(recovery_codes::normalize(" abcde fgh12 34567 ") == "abcde-fgh12-34567");
  CHECK(recovery_codes::normalize("abcdefgh1234567") == "abcde-fgh12-34567");
  CHECK(recovery_codes::normalize("abcde-fghI2-345O7") == "abcde-fgh12-34507");
  CHECK(recovery_codes::normalize("abcde-fghl2-34567") == "abcde-fgh12-34567");
}

TEST_CASE("normalize refuses what cannot be a recovery code") {
  CHECK_FALSE(recovery_codes::normalize("").has_value());
  CHECK_FALSE(recovery_codes::normalize("abcde-fgh12-3456").has_value());
  CHECK_FALSE(recovery_codes::normalize("abcde-fgh12-345678").has_value());
  CHECK_FALSE(recovery_codes::normalize("abcde-fgh12-3456u").has_value());
  CHECK_FALSE(recovery_codes::normalize("abcde_fgh12_34567").has_value());
}
