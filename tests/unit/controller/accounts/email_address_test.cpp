#include "controller/accounts/email_address.hpp"

#include <doctest/doctest.h>

using derpmgr::controller::accounts::normalize_email;

TEST_CASE("emails are normalised and implausible ones refused") {
  CHECK(normalize_email("  Alice@Example.COM ") == "alice@example.com");
  CHECK(normalize_email("a.b+tag@sub.example.cn") == "a.b+tag@sub.example.cn");
  CHECK_FALSE(normalize_email("no-at-sign.example.com"));
  CHECK_FALSE(normalize_email("two@@example.com"));
  CHECK_FALSE(normalize_email("a@b@example.com"));
  CHECK_FALSE(normalize_email("space in@example.com"));
  CHECK_FALSE(normalize_email("x@localhost"));
  CHECK_FALSE(normalize_email("x@example..com"));
  CHECK_FALSE(normalize_email("@example.com"));
  CHECK_FALSE(normalize_email(std::string(250, 'a') + "@example.com"));
  CHECK_FALSE(normalize_email("<x@example.com>"));
}
