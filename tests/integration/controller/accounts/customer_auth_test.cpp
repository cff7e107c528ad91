#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <future>
#include <vector>

#include "controller/auth/crypto/totp.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

std::string unique_email(const std::string& who) { return unique_name(who) + "@example.com"; }

const std::string password = "correct horse battery";

std::string body(const std::string& email, const std::string& pw = password) {
  return R"({"email":")" + email + R"(","password":")" + pw + R"("})";
}

// Registers and verifies a customer through the mail the system sends.
void register_verified(browser& b, const std::string& email) {
  auto reg = b.post("/api/v1/auth/register", body(email));
  REQUIRE_MESSAGE(reg.status == 201, reg.body);
  auto mail = wait_for_mail(services::from_env().mail_dir, email);
  REQUIRE(mail);
  auto code = find_code(mail->body);
  REQUIRE(code.size() == 6);
  auto verify = b.post("/api/v1/auth/verify-email", R"({"email":")" + email + R"(","code":")" + code + R"("})");
  REQUIRE_MESSAGE(verify.status == 200, verify.body);
}

}  // namespace

TEST_CASE("a customer registers, verifies the emailed code, signs in and out") {
  controller_fixture c("acct");
  browser b(c.base_url(), test_origin);
  auto email = unique_email("alice");
  auto reg = b.post("/api/v1/auth/register", body(email));
  REQUIRE_MESSAGE(reg.status == 201, reg.body);
  CHECK(json_of(reg).at("email_verified") == false);

  auto login_early = b.post("/api/v1/auth/login", body(email));
  REQUIRE(login_early.status == 200);
  CHECK(json_of(b.get("/api/v1/me")).at("email_verified") == false);

  auto mail = wait_for_mail(services::from_env().mail_dir, email);
  REQUIRE(mail);
  auto code = find_code(mail->body);
  REQUIRE(code.size() == 6);
  auto verify = b.post("/api/v1/auth/verify-email", R"({"email":")" + email + R"(","code":")" + code + R"("})");
  CHECK(verify.status == 200);

  auto login = b.post("/api/v1/auth/login", body(email));
  REQUIRE(login.status == 200);
  CHECK(login.body.find(b.cookie("__Host-derpmgr_session")) == std::string::npos);  // token never in the body
  bool http_only = false;
  for (const auto& sc : login.set_cookies) {
    if (sc.rfind("__Host-derpmgr_session=", 0) == 0) {
      http_only = sc.find("HttpOnly") != std::string::npos && sc.find("Secure") != std::string::npos &&
                  sc.find("SameSite=Strict") != std::string::npos;
    }
  }
  CHECK(http_only);
  auto me = b.get("/api/v1/me");
  REQUIRE(me.status == 200);
  CHECK(json_of(me).at("email").as_string() == email);
  CHECK(json_of(me).at("email_verified") == true);

  CHECK(b.post("/api/v1/auth/logout", "{}").status == 200);
  CHECK(b.get("/api/v1/me").status == 401);
  CHECK(b.post("/api/v1/auth/login", body(email, "wrong password here")).status == 401);
}

TEST_CASE("a verification code dies after five wrong tries and when it expires") {
  controller_fixture c("code");
  browser b(c.base_url(), test_origin);
  auto mail_dir = services::from_env().mail_dir;

  auto email = unique_email("bob");
  REQUIRE(b.post("/api/v1/auth/register", body(email)).status == 201);
  auto mail = wait_for_mail(mail_dir, email);
  REQUIRE(mail);
  auto code = find_code(mail->body);
  std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 0; i < 5; ++i) {
    auto r = b.post("/api/v1/auth/verify-email", R"({"email":")" + email + R"(","code":")" + wrong + R"("})");
    CHECK(r.status == 400);
    CHECK(error_field(r) == "code");
  }
  // The limiter now wants a pause; after it, the right code is still refused because the code itself died.
  CHECK(b.post("/api/v1/auth/verify-email", R"({"email":")" + email + R"(","code":")" + code + R"("})").status ==
        429);
  c.clk->advance(std::chrono::seconds(5));
  auto late = b.post("/api/v1/auth/verify-email", R"({"email":")" + email + R"(","code":")" + code + R"("})");
  CHECK(late.status == 400);
  CHECK(error_code(late) == "code_expired");

  auto email2 = unique_email("carol");
  REQUIRE(b.post("/api/v1/auth/register", body(email2)).status == 201);
  auto mail2 = wait_for_mail(mail_dir, email2);
  REQUIRE(mail2);
  c.clk->advance(std::chrono::minutes(16));
  auto expired = b.post("/api/v1/auth/verify-email",
                        R"({"email":")" + email2 + R"(","code":")" + find_code(mail2->body) + R"("})");
  CHECK(expired.status == 400);
  CHECK(error_code(expired) == "code_expired");
}

TEST_CASE("password reset by emailed link ends every session and the old password") {
  controller_fixture c("reset");
  browser b(c.base_url(), test_origin);
  auto mail_dir = services::from_env().mail_dir;
  auto email = unique_email("dave");
  register_verified(b, email);
  REQUIRE(b.post("/api/v1/auth/login", body(email)).status == 200);

  browser other(c.base_url(), test_origin);
  auto req = other.post("/api/v1/auth/password-reset", R"({"email":")" + email + R"("})");
  CHECK(req.status == 202);
  auto unknown = other.post("/api/v1/auth/password-reset", R"({"email":"nobody-here@example.com"})");
  CHECK(unknown.status == 202);  // no account enumeration
  auto mail = wait_for_mail(mail_dir, email, "reset-password?token=");
  REQUIRE(mail);
  auto pos = mail->body.find("token=");
  auto token = mail->body.substr(pos + 6, 32);

  auto weak = other.post("/api/v1/auth/password-reset/confirm", R"({"token":")" + token + R"(","password":"short"})");
  CHECK(weak.status == 400);
  CHECK(error_field(weak) == "password");
  std::string fresh = "a brand new passphrase";
  auto ok = other.post("/api/v1/auth/password-reset/confirm",
                       R"({"token":")" + token + R"(","password":")" + fresh + R"("})");
  REQUIRE_MESSAGE(ok.status == 200, ok.body);
  auto again = other.post("/api/v1/auth/password-reset/confirm",
                          R"({"token":")" + token + R"(","password":"yet another passphrase"})");
  CHECK(again.status == 400);  // single use

  CHECK(b.get("/api/v1/me").status == 401);  // the old session ended
  CHECK(other.post("/api/v1/auth/login", body(email)).status == 401);
  CHECK(other.post("/api/v1/auth/login", body(email, fresh)).status == 200);
}

TEST_CASE("state-changing cookie requests need the CSRF header and our Origin") {
  controller_fixture c("csrf");
  browser b(c.base_url(), test_origin);
  auto email = unique_email("erin");
  register_verified(b, email);
  REQUIRE(b.post("/api/v1/auth/login", body(email)).status == 200);
  std::string change = R"({"current_password":")" + password + R"(","new_password":"another good passphrase"})";

  auto no_csrf = b.send("POST", "/api/v1/me/password", change, false);
  CHECK(no_csrf.status == 403);
  CHECK(error_code(no_csrf) == "csrf_failed");
  auto foreign = b.send("POST", "/api/v1/me/password", change, true, "https://evil.example");
  CHECK(foreign.status == 403);
  CHECK(error_code(foreign) == "bad_origin");
  auto foreign_login = b.send("POST", "/api/v1/auth/login", body(email), true, "https://evil.example");
  CHECK(foreign_login.status == 403);
  CHECK(b.get("/api/v1/me").status == 200);  // GET needs no CSRF token
  CHECK(b.send("POST", "/api/v1/me/password", change).status == 200);
}

TEST_CASE("bad input gets a 400 naming the field") {
  controller_fixture c("input");
  browser b(c.base_url(), test_origin);
  auto bad_email = b.post("/api/v1/auth/register", R"({"email":"not-an-email","password":"long enough passphrase"})");
  CHECK(bad_email.status == 400);
  CHECK(error_field(bad_email) == "email");
  auto long_email = b.post("/api/v1/auth/register",
                           R"({"email":")" + std::string(300, 'a') + R"(@example.com","password":"long enough pass"})");
  CHECK(long_email.status == 400);
  CHECK(error_field(long_email) == "email");
  auto missing = b.post("/api/v1/auth/register", R"({"email":"x@example.com"})");
  CHECK(missing.status == 400);
  CHECK(error_field(missing) == "password");
  auto common = b.post("/api/v1/auth/register", R"({"email":"y@example.com","password":"1234567890"})");
  CHECK(common.status == 400);
  CHECK(error_field(common) == "password");
  auto type = b.post("/api/v1/auth/register", R"({"email":42,"password":"long enough passphrase"})");
  CHECK(type.status == 400);
  CHECK(error_field(type) == "email");
  auto locale = b.post("/api/v1/auth/register",
                       R"({"email":"z@example.com","password":"long enough passphrase","locale":"xx"})");
  CHECK(locale.status == 400);
  CHECK(error_field(locale) == "locale");
  auto malformed = b.post("/api/v1/auth/login", R"({"email": )");
  CHECK(malformed.status == 400);
  CHECK(error_code(malformed) == "invalid_json");
  auto dup_email = unique_email("dup");
  CHECK(b.post("/api/v1/auth/register", body(dup_email)).status == 201);
  auto dup = b.post("/api/v1/auth/register", body(dup_email));
  CHECK(dup.status == 409);
  CHECK(error_field(dup) == "email");
}

TEST_CASE("parallel bad logins hit the account limiter and the IP limiter") {
  controller_fixture c("limits");
  browser setup(c.base_url(), test_origin);
  auto victim = unique_email("victim");
  auto bystander = unique_email("bystander");
  register_verified(setup, victim);
  register_verified(setup, bystander);

  auto attack = [&](const std::string& email, const std::string& forwarded) {
    browser b(c.base_url(), test_origin);
    b.set_forwarded_for(forwarded);
    return b.post("/api/v1/auth/login", body(email, "wrong password guess")).status;
  };
  std::vector<std::future<long>> many_ips;
  for (int i = 0; i < 50; ++i) {
    many_ips.push_back(std::async(std::launch::async, attack, victim, "198.51.100." + std::to_string(i + 1)));
  }
  int limited = 0;
  int refused = 0;
  for (auto& f : many_ips) {
    auto status = f.get();
    limited += status == 429 ? 1 : 0;
    refused += status == 401 ? 1 : 0;
  }
  CHECK(limited >= 40);
  CHECK(limited + refused == 50);
  // The account limiter holds the victim, not everyone.
  browser other(c.base_url(), test_origin);
  other.set_forwarded_for("198.51.100.200");
  CHECK(other.post("/api/v1/auth/login", body(bystander)).status == 200);

  std::vector<std::future<long>> one_ip;
  for (int i = 0; i < 50; ++i) {
    one_ip.push_back(std::async(std::launch::async, attack, unique_email("guess"), "203.0.113.77"));
  }
  int ip_limited = 0;
  for (auto& f : one_ip) {
    ip_limited += f.get() == 429 ? 1 : 0;
  }
  CHECK(ip_limited >= 15);
  browser limited_ip(c.base_url(), test_origin);
  limited_ip.set_forwarded_for("203.0.113.77");
  auto blocked = limited_ip.post("/api/v1/auth/login", body(bystander));
  CHECK(blocked.status == 429);
  CHECK_FALSE(blocked.headers["retry-after"].empty());
}

TEST_CASE("customers manage their own API tokens and delete their account") {
  controller_fixture c("tokens");
  browser b(c.base_url(), test_origin);
  auto email = unique_email("frank");
  register_verified(b, email);
  REQUIRE(b.post("/api/v1/auth/login", body(email)).status == 200);
  auto created = b.post("/api/v1/me/api-tokens", R"({"name":"ci","scopes":["account:read"],"expires_in_days":30})");
  REQUIRE_MESSAGE(created.status == 201, created.body);
  std::string token(json_of(created).at("token").as_string());
  auto bad_scope = b.post("/api/v1/me/api-tokens", R"({"name":"x","scopes":["nodes:write"],"expires_in_days":30})");
  CHECK(bad_scope.status == 400);
  CHECK(error_field(bad_scope) == "scopes");

  auto with_token = fetch(http_request{"GET", c.base_url() + "/api/v1/me", "", {"Authorization: Bearer " + token}});
  CHECK(with_token.status == 200);
  // Bearer requests are exempt from CSRF, and a token cannot manage tokens.
  auto token_post = fetch(http_request{"POST", c.base_url() + "/api/v1/me/api-tokens",
                                       R"({"name":"y","scopes":["account:read"],"expires_in_days":1})",
                                       {"Authorization: Bearer " + token, "Content-Type: application/json"}});
  CHECK(token_post.status == 403);
  auto token_password = fetch(http_request{"POST", c.base_url() + "/api/v1/me/password",
                                           R"({"current_password":"x","new_password":"another passphrase"})",
                                           {"Authorization: Bearer " + token, "Content-Type: application/json"}});
  CHECK(token_password.status == 403);
  auto narrow = b.post("/api/v1/me/api-tokens", R"({"name":"rental","scopes":["rental:read"],"expires_in_days":1})");
  REQUIRE(narrow.status == 201);
  auto narrow_me = fetch(http_request{"GET", c.base_url() + "/api/v1/me", "",
                                      {"Authorization: Bearer " + std::string(json_of(narrow).at("token").as_string())}});
  CHECK(narrow_me.status == 403);  // scope account:read is needed

  auto id = json_of(created).at("id").as_int64();
  CHECK(b.send("DELETE", "/api/v1/me/api-tokens/" + std::to_string(id), "").status == 200);
  auto revoked = fetch(http_request{"GET", c.base_url() + "/api/v1/me", "", {"Authorization: Bearer " + token}});
  CHECK(revoked.status == 401);

  auto wrong = b.send("DELETE", "/api/v1/me", R"({"password":"not my password at all"})");
  CHECK(wrong.status == 400);
  auto gone = b.send("DELETE", "/api/v1/me", R"({"password":")" + password + R"("})");
  CHECK(gone.status == 200);
  CHECK(b.get("/api/v1/me").status == 401);
  CHECK(c.db.scalar("SELECT COUNT(*) FROM users WHERE email = '" + email + "'") == "0");
  CHECK(c.db.scalar("SELECT status FROM users WHERE deleted_at IS NOT NULL") == "deleted");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user.deleted'") == "1");
}

TEST_CASE("a customer with TOTP needs the code to sign in and to reset the password") {
  controller_fixture c("ctotp");
  browser b(c.base_url(), test_origin);
  auto email = unique_email("gina");
  register_verified(b, email);
  REQUIRE(b.post("/api/v1/auth/login", body(email)).status == 200);
  auto setup = b.post("/api/v1/me/mfa/setup", "{}");
  REQUIRE(setup.status == 200);
  auto secret = base32_decode(std::string(json_of(setup).at("secret").as_string()));
  auto code = [&](std::int64_t offset) {
    return controller::auth::totp::code(secret, controller::auth::totp::step_at(c.clk->now()) + offset, 6,
                                        controller::auth::totp_algorithm::sha1);
  };
  REQUIRE(b.post("/api/v1/me/mfa/enable", R"({"code":")" + code(0) + R"("})").status == 200);
  CHECK(json_of(b.get("/api/v1/me")).at("totp_enabled") == true);

  browser other(c.base_url(), test_origin);
  auto without = other.post("/api/v1/auth/login", body(email));
  CHECK(without.status == 401);
  CHECK(error_code(without) == "totp_required");
  c.clk->advance(std::chrono::seconds(30));
  auto with = other.post("/api/v1/auth/login", R"({"email":")" + email + R"(","password":")" + password +
                                                   R"(","totp_code":")" + code(0) + R"("})");
  CHECK(with.status == 200);

  // The reset link alone does not get past the second factor.
  REQUIRE(other.post("/api/v1/auth/password-reset", R"({"email":")" + email + R"("})").status == 202);
  auto mail = wait_for_mail(services::from_env().mail_dir, email, "reset-password?token=");
  REQUIRE(mail);
  auto token = mail->body.substr(mail->body.find("token=") + 6, 32);
  auto no_code = other.post("/api/v1/auth/password-reset/confirm",
                            R"({"token":")" + token + R"(","password":"a brand new passphrase"})");
  CHECK(no_code.status == 401);
  c.clk->advance(std::chrono::seconds(30));
  auto ok = other.post("/api/v1/auth/password-reset/confirm", R"({"token":")" + token +
                                                                 R"(","password":"a brand new passphrase","totp_code":")" +
                                                                 code(0) + R"("})");
  CHECK(ok.status == 200);
}
