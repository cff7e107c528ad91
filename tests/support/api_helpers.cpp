#include "tests/support/api_helpers.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "controller/auth/crypto/totp.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

namespace derpmgr::test {

boost::json::object json_of(const http_result& r) {
  REQUIRE_MESSAGE(!r.body.empty(), "empty body, status " << r.status << " " << r.error);
  return boost::json::parse(r.body).as_object();
}

std::string error_code(const http_result& r) {
  auto err = json_of(r).at("error").as_object();
  return err.contains("code") ? std::string(err.at("code").as_string()) : "";
}

std::string error_field(const http_result& r) {
  auto err = json_of(r).at("error").as_object();
  return err.contains("field") ? std::string(err.at("field").as_string()) : "";
}

std::string sign_in_admin(controller_fixture& c, browser& b, const std::string& role) {
  namespace totp = controller::auth::totp;
  auto email = unique_name(role) + "@example.com";
  std::string password = "admin passphrase long";
  c.create_admin(email, password, role);
  REQUIRE(b.post("/api/v1/admin/auth/login", R"({"email":")" + email + R"(","password":")" + password + R"("})")
              .status == 200);
  auto setup = b.post("/api/v1/admin/auth/mfa/setup", "{}");
  REQUIRE(setup.status == 200);
  auto secret = base32_decode(std::string(json_of(setup).at("secret").as_string()));
  auto code = totp::code(secret, totp::step_at(c.clk->now()), 6, controller::auth::totp_algorithm::sha1);
  REQUIRE(b.post("/api/v1/admin/auth/mfa/enable", R"({"code":")" + code + R"("})").status == 200);
  return secret;
}

std::int64_t sign_in_customer(browser& b, const std::string& email) {
  std::string body = R"({"email":")" + email + R"(","password":"customer passphrase"})";
  auto reg = b.post("/api/v1/auth/register", body);
  REQUIRE(reg.status == 201);
  auto mail = wait_for_mail(services::from_env().mail_dir, email);
  REQUIRE(mail);
  REQUIRE(b.post("/api/v1/auth/verify-email",
                 R"({"email":")" + email + R"(","code":")" + find_code(mail->body) + R"("})")
              .status == 200);
  REQUIRE(b.post("/api/v1/auth/login", body).status == 200);
  return json_of(reg).at("id").as_int64();
}

}  // namespace derpmgr::test
