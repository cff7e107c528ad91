#include "controller/audit/audit_details.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "controller/audit/audit_errors.hpp"

using namespace derpmgr::controller::audit;

TEST_CASE("audit detail keys that look secret are recognised in any spelling") {
  for (const char* key :
       {"password",     "new_password",  "newPassword",   "Password",     "passwd",      "token", "api_token",
        "sessionToken", "accesstoken",   "secret",        "clientSecret", "totp_code",   "code",  "recovery_codes",
        "key",          "api_key",       "APIKey",        "privateKey",   "private-key", "otp",   "csrf",
        "cookie",       "Authorization", "password_hash", "hashes",       "pin",         "salt",  "credentials"}) {
    CHECK_MESSAGE(is_secret_key(key), key);
  }
  for (const char* key : {"email", "role", "reason", "plan_id", "name", "user_id", "locale", "expires_at", "count",
                          "monkey_business_hours"}) {
    CHECK_MESSAGE(!is_secret_key(key), key);
  }
}

TEST_CASE("audit details drop secrets at any depth and keep the rest") {
  audit_details details({
      {"email", "a@example.com"},
      {"password", "hunter2hunter2"},
      {"mfa", {{"totp_code", "123456"}, {"method", "totp"}}},
      {"tokens", {{{"name", "ci"}, {"token", "dm_abc"}}, {{"name", "backup"}, {"secret", "s"}}}},
      {"count", 3},
  });
  const auto& text = details.text();
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("123456") == std::string::npos);
  CHECK(text.find("dm_abc") == std::string::npos);
  CHECK(text.find("tokens") == std::string::npos);
  CHECK(text == R"({"count":3,"email":"a@example.com","mfa":{"method":"totp"}})");
}

TEST_CASE("audit details are canonical: keys sorted at every level, invalid UTF-8 replaced") {
  audit_details a({{"b", 1}, {"a", {{"z", true}, {"y", nullptr}}}});
  audit_details b({{"a", {{"y", nullptr}, {"z", true}}}, {"b", 1}});
  CHECK(a.text() == b.text());
  CHECK(a.text() == R"({"a":{"y":null,"z":true},"b":1})");
  CHECK(audit_details().text() == "{}");

  audit_details bad_text({{"name", "ab\xff"}});
  CHECK(bad_text.text() == "{\"name\":\"ab\xEF\xBF\xBD\"}");
  CHECK_NOTHROW(boost::json::parse(bad_text.text()));
}

TEST_CASE("audit details larger than the column are refused") {
  CHECK_THROWS_AS(audit_details({{"note", std::string(70000, 'x')}}), invalid_audit_entry);
  CHECK_NOTHROW(audit_details({{"note", std::string(60000, 'x')}}));
}
