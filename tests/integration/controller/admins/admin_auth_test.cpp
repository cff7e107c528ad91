#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <thread>
#include <tuple>
#include <vector>

#include "controller/audit/audit_verify_command.hpp"
#include "controller/auth/crypto/totp.hpp"
#include "controller/auth/permissions.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
namespace totp = derpmgr::controller::auth::totp;

namespace {

const std::string password = "admin passphrase long";

std::string login_body(const std::string& email, const std::string& code = "") {
  std::string out = R"({"email":")" + email + R"(","password":")" + password + "\"";
  if (!code.empty()) {
    out += R"(,"totp_code":")" + code + "\"";
  }
  return out + "}";
}

std::string current_code(const controller_fixture& c, const std::string& secret, std::int64_t offset = 0) {
  return totp::code(secret, totp::step_at(c.clk->now()) + offset, 6, controller::auth::totp_algorithm::sha1);
}

// An admin with `role`, signed in with TOTP enrolled; returns the raw TOTP secret.
std::string enrolled_admin(controller_fixture& c, browser& b, const std::string& email, const std::string& role) {
  c.create_admin(email, password, role);
  auto login = b.post("/api/v1/admin/auth/login", login_body(email));
  REQUIRE_MESSAGE(login.status == 200, login.body);
  CHECK(json_of(login).at("admin").at("mfa_required") == true);
  auto setup = b.post("/api/v1/admin/auth/mfa/setup", "{}");
  REQUIRE_MESSAGE(setup.status == 200, setup.body);
  auto secret = base32_decode(std::string(json_of(setup).at("secret").as_string()));
  auto enable = b.post("/api/v1/admin/auth/mfa/enable", R"({"code":")" + current_code(c, secret) + R"("})");
  REQUIRE_MESSAGE(enable.status == 200, enable.body);
  CHECK(json_of(enable).at("recovery_codes").as_array().size() == 10);
  return secret;
}

// Every admin management endpoint and the permission it needs (independent of the code's registration).
const std::vector<std::tuple<std::string, std::string, std::string, std::string>> endpoints = {
    {"GET", "/api/v1/admin/admins", "", "admins:read"},
    {"POST", "/api/v1/admin/admins", R"({"email":"n@example.com","password":"x","roles":[]})", "admins:write"},
    {"PUT", "/api/v1/admin/admins/999999/roles", R"({"roles":[]})", "admins:write"},
    {"POST", "/api/v1/admin/admins/999999/disable", "{}", "admins:write"},
    {"POST", "/api/v1/admin/admins/999999/mfa/reset", "{}", "admins:write"},
    {"GET", "/api/v1/admin/roles", "", "admins:read"},
    {"POST", "/api/v1/admin/roles", R"({"name":"x","permissions":["nope"]})", "admins:write"},
    {"GET", "/api/v1/admin/users", "", "users:read"},
    {"GET", "/api/v1/admin/users/999999", "", "users:read"},
    {"DELETE", "/api/v1/admin/users/999999", "", "users:write"},
    {"POST", "/api/v1/admin/users/999999/disable", "{}", "users:write"},
    {"GET", "/api/v1/admin/audit-log", "", "audit:read"},
    {"GET", "/api/v1/admin/api-tokens", "", "tokens:write"},
    {"GET", "/api/v1/admin/email-outbox", "", "email:read"},
    {"POST", "/api/v1/admin/email-outbox/999999/resend", "{}", "email:write"},
};

}  // namespace

TEST_CASE("an admin must enrol TOTP before anything else, and each TOTP step is accepted once") {
  controller_fixture c("admin");
  browser b(c.base_url(), test_origin);
  auto email = unique_name("owner") + "@example.com";
  c.create_admin(email, password, "owner");
  REQUIRE(b.post("/api/v1/admin/auth/login", login_body(email)).status == 200);
  auto blocked = b.get("/api/v1/admin/admins");
  CHECK(blocked.status == 403);
  CHECK(error_code(blocked) == "mfa_required");
  CHECK(b.get("/api/v1/admin/me").status == 200);

  auto setup = b.post("/api/v1/admin/auth/mfa/setup", "{}");
  REQUIRE(setup.status == 200);
  auto setup_json = json_of(setup);
  CHECK(std::string(setup_json.at("otpauth_uri").as_string()).rfind("otpauth://totp/", 0) == 0);
  CHECK(std::string(setup_json.at("qr_svg").as_string()).find("<svg") != std::string::npos);
  auto secret = base32_decode(std::string(setup_json.at("secret").as_string()));
  auto wrong = b.post("/api/v1/admin/auth/mfa/enable", R"({"code":"000000"})");
  CHECK(wrong.status == 400);
  auto code = current_code(c, secret);
  auto enable = b.post("/api/v1/admin/auth/mfa/enable", R"({"code":")" + code + R"("})");
  REQUIRE(enable.status == 200);
  auto recovery = json_of(enable).at("recovery_codes").as_array();
  CHECK(b.get("/api/v1/admin/admins").status == 200);

  browser again(c.base_url(), test_origin);
  auto no_code = again.post("/api/v1/admin/auth/login", login_body(email));
  CHECK(no_code.status == 401);
  CHECK(error_code(no_code) == "totp_required");
  // The step used to enable MFA cannot be replayed.
  auto replay = again.post("/api/v1/admin/auth/login", login_body(email, code));
  CHECK(replay.status == 401);
  CHECK(error_code(replay) == "invalid_totp");
  c.clk->advance(std::chrono::seconds(30));
  auto next = current_code(c, secret);
  CHECK(again.post("/api/v1/admin/auth/login", login_body(email, next)).status == 200);
  browser third(c.base_url(), test_origin);
  CHECK(third.post("/api/v1/admin/auth/login", login_body(email, next)).status == 401);
  // A recovery code works once.
  std::string rc(recovery[0].as_string());
  CHECK(third.post("/api/v1/admin/auth/login", login_body(email, rc)).status == 200);
  browser fourth(c.base_url(), test_origin);
  CHECK(fourth.post("/api/v1/admin/auth/login", login_body(email, rc)).status == 401);
}

TEST_CASE("every built-in role is allowed exactly the admin endpoints its permissions name") {
  controller_fixture c("perm");
  for (const auto& role : controller::auth::built_in_roles()) {
    CAPTURE(role.name);
    browser b(c.base_url(), test_origin);
    enrolled_admin(c, b, unique_name(role.name) + "@example.com", role.name);
    for (const auto& [method, path, request_body, permission] : endpoints) {
      CAPTURE(method);
      CAPTURE(path);
      auto r = b.send(method, path, request_body);
      bool allowed = role.permissions.count(permission) != 0;
      if (allowed) {
        CHECK(r.status != 403);
        CHECK(r.status != 401);
      } else {
        CHECK(r.status == 403);
      }
    }
  }
}

TEST_CASE("admins cannot grant what they lack, and the last owner stays") {
  controller_fixture c("grant");
  browser owner(c.base_url(), test_origin);
  auto owner_email = unique_name("owner") + "@example.com";
  enrolled_admin(c, owner, owner_email, "owner");
  browser support(c.base_url(), test_origin);
  enrolled_admin(c, support, unique_name("support") + "@example.com", "admin");
  // An admin (everything but serials:export) cannot create an owner.
  auto grant = support.post("/api/v1/admin/admins", R"({"email":")" + unique_name("x") +
                                                        R"(@example.com","password":"another admin passphrase","roles":["owner"]})");
  CHECK(grant.status == 403);
  CHECK(error_code(grant) == "cannot_grant");
  auto role = support.post("/api/v1/admin/roles", R"({"name":"exporter","permissions":["serials:export"]})");
  CHECK(role.status == 403);

  auto me = json_of(owner.get("/api/v1/admin/me"));
  auto owner_id = std::to_string(me.at("id").as_int64());
  auto demote = owner.send("PUT", "/api/v1/admin/admins/" + owner_id + "/roles", R"({"roles":["admin"]})");
  CHECK(demote.status == 409);
  CHECK(error_code(demote) == "last_owner");
  auto disable = support.post("/api/v1/admin/admins/" + owner_id + "/disable", "{}");
  CHECK(disable.status == 409);
}

TEST_CASE("admin writes are hash-chained and audit verify catches tampering") {
  controller_fixture c("chain");
  browser owner(c.base_url(), test_origin);
  enrolled_admin(c, owner, unique_name("owner") + "@example.com", "owner");
  auto created = owner.post("/api/v1/admin/roles", R"({"name":"readers","permissions":["users:read"]})");
  REQUIRE(created.status == 201);
  auto log = owner.get("/api/v1/admin/audit-log");
  REQUIRE(log.status == 200);
  auto items = json_of(log).at("items").as_array();
  REQUIRE(items.size() >= 3);  // admin.created, admin.mfa.enabled, role.created
  CHECK(log.body.find("role.created") != std::string::npos);
  CHECK(log.body.find("admin.mfa.enabled") != std::string::npos);

  auto cfg = controller::controller_config::load(std::nullopt, [](const std::string&) {
    return std::optional<std::string>{};
  });
  cfg.database_url = c.db.url();
  CHECK(controller::audit::audit_verify_command(cfg) == 0);
  c.db.execute("UPDATE audit_log SET details = '{\"name\":\"writers\"}' WHERE action = 'role.created'");
  CHECK(controller::audit::audit_verify_command(cfg) == 1);
}

TEST_CASE("admins see the email outbox and can queue a message again") {
  controller_fixture c("outbox");
  browser owner(c.base_url(), test_origin);
  enrolled_admin(c, owner, unique_name("owner") + "@example.com", "owner");
  browser customer(c.base_url(), test_origin);
  auto email = unique_name("mailme") + "@example.com";
  REQUIRE(customer.post("/api/v1/auth/register", R"({"email":")" + email + R"(","password":"a long passphrase"})")
              .status == 201);
  auto mail = wait_for_mail(services::from_env().mail_dir, email);
  REQUIRE(mail);
  auto sent_code = find_code(mail->body);
  REQUIRE(sent_code.size() == 6);
  http_result list;
  for (int i = 0; i < 50; ++i) {
    list = owner.get("/api/v1/admin/email-outbox?status=sent&recipient=" + email);
    if (list.status == 200 && json_of(list).at("items").as_array().size() == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(list.status == 200);
  auto items = json_of(list).at("items").as_array();
  REQUIRE(items.size() == 1);
  CHECK(items[0].at("template") == "verify_email");
  CHECK(list.body.find(sent_code) == std::string::npos);  // bodies (and their codes) are never listed
  auto id = std::to_string(items[0].at("id").as_int64());
  CHECK(owner.post("/api/v1/admin/email-outbox/" + id + "/resend", "{}").status == 200);
  CHECK(owner.get("/api/v1/admin/email-outbox?status=bogus").status == 400);
}
