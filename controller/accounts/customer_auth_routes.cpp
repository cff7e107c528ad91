#include "controller/accounts/customer_auth_routes.hpp"

#include <cppconn/connection.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/accounts/email_address.hpp"
#include "controller/accounts/user_repository.hpp"
#include "controller/app/controller_config.hpp"
#include "controller/auth/api_token_store.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/auth/crypto/password_hasher.hpp"
#include "controller/auth/crypto/password_policy.hpp"
#include "controller/auth/mfa_service.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/auth/server_keys.hpp"
#include "controller/auth/session_cookies.hpp"
#include "controller/auth/session_store.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/cookies.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/router.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::accounts {

namespace json = boost::json;
using http::api_error;
using http::request;
using http::response;

namespace {

constexpr auto verify_code_lifetime = std::chrono::minutes(15);
constexpr int verify_code_tries = 5;
constexpr auto resend_interval = std::chrono::seconds(60);
constexpr auto reset_lifetime = std::chrono::minutes(30);
constexpr const char* verify_purpose = "verify";
constexpr const char* reset_purpose = "reset";

std::string email_field(const json::object& body) {
  auto raw = http::require_string(body, "email", 254);
  auto email = normalize_email(raw);
  if (!email) {
    throw api_error(400, "invalid_field", "email is not a valid email address", "email");
  }
  return *email;
}

void check_password(app_services& s, const std::string& password, const std::string& field) {
  auto verdict = s.passwords.check(password);
  if (!verdict.ok()) {
    throw api_error(400, "weak_password", verdict.message, field);
  }
}

std::string six_digits() {
  auto bytes = random_bytes(4);
  std::uint32_t n = 0;
  for (unsigned char b : bytes) {
    n = (n << 8) | b;
  }
  auto text = std::to_string(n % 1000000);
  return std::string(6 - text.size(), '0') + text;
}

json::object user_json(const user_row& u, bool totp_enabled) {
  return json::object{{"id", u.id},
                      {"email", u.email},
                      {"email_verified", u.email_verified},
                      {"locale", u.locale},
                      {"balance_cents", u.balance_cents},
                      {"status", u.status},
                      {"totp_enabled", totp_enabled},
                      {"created_at", format_rfc3339(u.created_at)}};
}

response json_response(int status, const json::object& body) { return response::json(status, json::serialize(body)); }

std::string locale_field(const json::object& body) {
  auto locale = http::optional_string(body, "locale", 16).value_or("en");
  if (locale != "en" && locale != "zh-CN") {
    throw api_error(400, "invalid_field", "locale must be en or zh-CN", "locale");
  }
  return locale;
}

net::awaitable<response> register_user(app_services* s, request req) {
  s->authn.check_origin(req);
  auto body = http::parse_json_object(req);
  auto email = email_field(body);
  auto password = http::require_string(body, "password", 1024);
  auto locale = locale_field(body);
  check_password(*s, password, "password");
  auth::limit_attempt(*s, req, "register", "");
  auto hash = co_await s->hasher.hash(password);
  auto code = six_digits();
  auto now = s->clk.now();
  auto unit = [s, email, hash, locale, code, now](sql::Connection& conn) {
    auto user_id = user_repository::insert(conn, email, hash, locale, now);
    if (!user_id) {
      return std::uint64_t{0};
    }
    email_code_repository::replace(conn, *user_id, verify_purpose, s->keys.code_hash(verify_purpose, *user_id, code),
                                   now, now + verify_code_lifetime);
    s->enqueue_mail(conn, email, "verify_email", locale,
                    {{"code", code}, {"minutes", std::to_string(verify_code_lifetime.count())}});
    return *user_id;
  };
  auto id = co_await s->pool.transact(std::move(unit));
  if (id == 0) {
    throw api_error(409, "email_taken", "an account with this email already exists", "email");
  }
  s->wake_mailer();
  co_return json_response(201, json::object{{"id", id}, {"email", email}, {"email_verified", false}});
}

enum class code_outcome { ok, wrong, expired, no_code, already_verified, no_user };

net::awaitable<response> verify_email(app_services* s, request req) {
  s->authn.check_origin(req);
  auto body = http::parse_json_object(req);
  auto email = email_field(body);
  auto code = http::require_string(body, "code", 16);
  auth::limit_attempt(*s, req, "verify", email);
  auto now = s->clk.now();
  auto unit2 = [s, email, code, now](sql::Connection& conn) {
    auto user = user_repository::by_email(conn, email, true);
    if (!user || user->status != "active") {
      return code_outcome::no_user;
    }
    if (user->email_verified) {
      return code_outcome::already_verified;
    }
    auto open = email_code_repository::open_code(conn, user->id, verify_purpose);
    if (!open) {
      return code_outcome::no_code;
    }
    if (open->expires_at <= now || open->attempts >= verify_code_tries) {
      return code_outcome::expired;
    }
    if (!http::constant_time_equal(open->code_hash, s->keys.code_hash(verify_purpose, user->id, code))) {
      email_code_repository::count_attempt(conn, open->id);
      if (open->attempts + 1 >= verify_code_tries) {
        email_code_repository::mark_used(conn, open->id, now);
      }
      return code_outcome::wrong;
    }
    email_code_repository::mark_used(conn, open->id, now);
    user_repository::mark_verified(conn, user->id, now);
    return code_outcome::ok;
  };
  auto outcome = co_await s->pool.transact(std::move(unit2));
  switch (outcome) {
    case code_outcome::ok:
      auth::clear_attempts(*s, "verify", email);
      co_return json_response(200, json::object{{"email_verified", true}});
    case code_outcome::already_verified:
      co_return json_response(200, json::object{{"email_verified", true}});
    case code_outcome::wrong:
      throw api_error(400, "invalid_code", "the code is not correct", "code");
    case code_outcome::expired:
    case code_outcome::no_code:
      throw api_error(400, "code_expired", "the code has expired or was used up; request a new one", "code");
    case code_outcome::no_user:
      break;
  }
  throw api_error(400, "invalid_code", "the code is not correct", "code");
}

net::awaitable<response> resend_verification(app_services* s, request req) {
  s->authn.check_origin(req);
  auto body = http::parse_json_object(req);
  auto email = email_field(body);
  auth::limit_attempt(*s, req, "resend", email);
  auto code = six_digits();
  auto now = s->clk.now();
  auto unit3 = [s, email, code, now](sql::Connection& conn) {
    auto user = user_repository::by_email(conn, email, true);
    if (!user || user->email_verified || user->status != "active") {
      return false;  // say nothing about whether the account exists
    }
    auto last = email_code_repository::last_created(conn, user->id, verify_purpose);
    if (last && now - *last < resend_interval) {
      return true;
    }
    email_code_repository::replace(conn, user->id, verify_purpose, s->keys.code_hash(verify_purpose, user->id, code),
                                   now, now + verify_code_lifetime);
    s->enqueue_mail(conn, email, "verify_email", user->locale,
                    {{"code", code}, {"minutes", std::to_string(verify_code_lifetime.count())}});
    return false;
  };
  bool throttled = co_await s->pool.transact(std::move(unit3));
  if (throttled) {
    throw api_error(429, "too_soon", "a code was sent less than a minute ago")
        .with_header("Retry-After", std::to_string(resend_interval.count()));
  }
  s->wake_mailer();
  co_return json_response(202, json::object{{"status", "sent_if_account_exists"}});
}

net::awaitable<response> login(app_services* s, request req) {
  s->authn.check_origin(req);
  auto body = http::parse_json_object(req);
  auto email = email_field(body);
  auto password = http::require_string(body, "password", 1024);
  auto totp_code = http::optional_string(body, "totp_code", 32);
  auth::limit_attempt(*s, req, "login", email);
  auto unit4 = [email](sql::Connection& conn) { return user_repository::by_email(conn, email); };
  auto user = co_await s->pool.run(std::move(unit4));
  if (!user || user->password_hash.empty()) {
    co_await auth::verify_password(*s, "", password);
    co_await auth::record_auth_event(*s, req, "customer", 0, email, "login_failed");
    throw api_error(401, "invalid_credentials", "email or password is wrong");
  }
  if (!co_await auth::verify_password(*s, user->password_hash, password)) {
    co_await auth::record_auth_event(*s, req, "customer", user->id, email, "login_failed");
    throw api_error(401, "invalid_credentials", "email or password is wrong");
  }
  if (user->status != "active") {
    throw api_error(403, "account_disabled", "this account is " + user->status);
  }
  co_await auth::check_second_factor(*s, auth::principal_kind::customer, user->id, totp_code);
  auth::clear_attempts(*s, "login", email);
  auto policy = s->authn.settings().customer;
  auto ip = req.remote_ip;
  auto ua = auth::user_agent_of(req);
  auto user_id = user->id;
  auto unit5 = [s, user_id, policy, ip, ua](sql::Connection& conn) {
    return s->sessions.create(conn, auth::principal_kind::customer, user_id, true, policy, ip, ua);
  };
  auto token = co_await s->pool.transact(std::move(unit5));
  co_await auth::record_auth_event(*s, req, "customer", user->id, email, "login");
  bool totp = co_await auth::has_second_factor(*s, auth::principal_kind::customer, user->id);
  auto res = json_response(200, json::object{{"user", user_json(*user, totp)}});
  auth::add_session_cookies(res, auth::customer_cookie, token, policy.absolute);
  co_return res;
}

net::awaitable<response> logout(app_services* s, request req) {
  auto who = co_await s->authn.require(req, auth::principal_kind::customer);
  co_return co_await auth::sign_out(s, std::move(who), auth::customer_cookie);
}

net::awaitable<response> request_password_reset(app_services* s, request req) {
  s->authn.check_origin(req);
  auto body = http::parse_json_object(req);
  auto email = email_field(body);
  auth::limit_attempt(*s, req, "reset", email);
  auto token = random_hex(16);
  auto now = s->clk.now();
  // Never built from the Host header: a forged Host would send the victim's token to another site.
  if (s->config.http_public_url.empty()) {
    throw api_error(503, "not_configured", "password reset needs [http] public_url to be configured");
  }
  auto link = s->config.http_public_url + "/reset-password?token=" + token;
  auto unit7 = [s, email, token, now, link](sql::Connection& conn) {
    auto user = user_repository::by_email(conn, email, true);
    if (!user || user->status != "active") {
      return;
    }
    email_code_repository::replace(conn, user->id, reset_purpose, s->keys.token_hash(token), now,
                                   now + reset_lifetime);
    s->enqueue_mail(conn, email, "password_reset", user->locale,
                    {{"link", link}, {"minutes", std::to_string(reset_lifetime.count())}});
  };
  co_await s->pool.transact(std::move(unit7));
  s->wake_mailer();
  co_return json_response(202, json::object{{"status", "sent_if_account_exists"}});
}

net::awaitable<response> confirm_password_reset(app_services* s, request req) {
  s->authn.check_origin(req);
  auto body = http::parse_json_object(req);
  auto token = http::require_string(body, "token", 64);
  auto password = http::require_string(body, "password", 1024);
  auto totp_code = http::optional_string(body, "totp_code", 32);
  check_password(*s, password, "password");
  auth::limit_attempt(*s, req, "reset_confirm", "");
  auto hash_of_token = s->keys.token_hash(token);
  auto now = s->clk.now();
  auto unit8 = [hash_of_token, now](sql::Connection& conn) -> std::optional<user_row> {
    auto code = email_code_repository::by_hash(conn, reset_purpose, hash_of_token);
    if (!code || code->expires_at <= now) {
      return std::nullopt;
    }
    return user_repository::by_id(conn, code->user_id);
  };
  auto owner = co_await s->pool.run(std::move(unit8));
  if (!owner || owner->status != "active") {
    throw api_error(400, "invalid_token", "the reset link is not valid or has expired", "token");
  }
  // A reset proves control of the mailbox only: it never bypasses the second factor.
  co_await auth::check_second_factor(*s, auth::principal_kind::customer, owner->id, totp_code);
  auto new_hash = co_await s->hasher.hash(password);
  auto user_id = owner->id;
  auto email = owner->email;
  auto locale = owner->locale;
  auto event = auth::audit_for(req, "customer", user_id, "user.password_reset", "user:" + std::to_string(user_id));
  auto unit9 = [s, hash_of_token, now, user_id, new_hash, email, locale,
                                         event](sql::Connection& conn) {
    auto code = email_code_repository::by_hash(conn, reset_purpose, hash_of_token);
    if (!code || code->user_id != user_id || code->expires_at <= now) {
      return false;
    }
    email_code_repository::mark_used(conn, code->id, now);
    user_repository::set_password(conn, user_id, new_hash);
    s->sessions.revoke_all(conn, auth::principal_kind::customer, user_id);
    s->enqueue_mail(conn, email, "password_changed", locale, {});
    s->audit(conn, event);
    return true;
  };
  bool done = co_await s->pool.transact(std::move(unit9));
  if (!done) {
    throw api_error(400, "invalid_token", "the reset link is not valid or has expired", "token");
  }
  s->wake_mailer();
  co_return json_response(200, json::object{{"status", "password_changed"}});
}

net::awaitable<response> me(app_services* s, request req) {
  auto who = co_await s->authn.require(req, auth::principal_kind::customer);
  auth::require_permission(who, "account:read");
  auto id = who.id;
  auto unit10 = [id](sql::Connection& conn) { return user_repository::by_id(conn, id); };
  auto user = co_await s->pool.run(std::move(unit10));
  if (!user) {
    throw api_error(404, "not_found", "no such account");
  }
  bool totp = co_await auth::has_second_factor(*s, auth::principal_kind::customer, id);
  co_return json_response(200, user_json(*user, totp));
}

net::awaitable<response> change_password(app_services* s, request req) {
  auto who = co_await s->authn.require(req, auth::principal_kind::customer);
  auth::require_session(who);
  auto body = http::parse_json_object(req);
  auto current = http::require_string(body, "current_password", 1024);
  auto next = http::require_string(body, "new_password", 1024);
  check_password(*s, next, "new_password");
  auth::limit_attempt(*s, req, "password", who.email);
  auto id = who.id;
  auto unit11 = [id](sql::Connection& conn) { return user_repository::by_id(conn, id); };
  auto user = co_await s->pool.run(std::move(unit11));
  if (!user || !co_await auth::verify_password(*s, user->password_hash, current)) {
    throw api_error(400, "invalid_field", "the current password is wrong", "current_password");
  }
  auto hash = co_await s->hasher.hash(next);
  auto keep = who.session_id;
  auto event = auth::audit_for(req, "customer", id, "user.password_changed", "user:" + std::to_string(id));
  auto email = user->email;
  auto locale = user->locale;
  auto unit12 = [s, id, hash, keep, event, email, locale](sql::Connection& conn) {
    user_repository::set_password(conn, id, hash);
    s->sessions.revoke_all(conn, auth::principal_kind::customer, id, keep);
    s->enqueue_mail(conn, email, "password_changed", locale, {});
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit12));
  s->wake_mailer();
  co_return json_response(200, json::object{{"status", "password_changed"}});
}

net::awaitable<response> delete_account(app_services* s, request req) {
  auto who = co_await s->authn.require(req, auth::principal_kind::customer);
  auth::require_session(who);
  auto body = http::parse_json_object(req);
  auto password = http::require_string(body, "password", 1024);
  auth::limit_attempt(*s, req, "delete", who.email);
  auto id = who.id;
  auto unit13 = [id](sql::Connection& conn) { return user_repository::by_id(conn, id); };
  auto user = co_await s->pool.run(std::move(unit13));
  if (!user || !co_await auth::verify_password(*s, user->password_hash, password)) {
    throw api_error(400, "invalid_field", "the password is wrong", "password");
  }
  co_await delete_customer(*s, req, id, "customer", id);
  auto res = json_response(200, json::object{{"status", "deleted"}});
  res.headers.emplace_back("Set-Cookie", http::expired_cookie(auth::customer_cookie));
  res.headers.emplace_back("Set-Cookie", http::expired_cookie(auth::csrf_cookie));
  co_return res;
}

net::awaitable<response> customer_mfa_setup(app_services* s, request req) {
  auto who = co_await s->authn.require(req, auth::principal_kind::customer);
  auth::require_session(who);
  auto enrolment = co_await auth::begin_totp_setup(*s, auth::principal_kind::customer, who.id, who.email);
  co_return json_response(200, json::object{{"secret", enrolment.secret_base32},
                                            {"otpauth_uri", enrolment.otpauth_uri},
                                            {"qr_svg", enrolment.qr_svg}});
}

net::awaitable<response> customer_mfa_enable(app_services* s, request req) {
  auto who = co_await s->authn.require(req, auth::principal_kind::customer);
  auth::require_session(who);
  auto body = http::parse_json_object(req);
  auto code = http::require_string(body, "code", 16);
  auto event = auth::audit_for(req, "customer", who.id, "user.mfa.enabled", "user:" + std::to_string(who.id));
  auto codes = co_await auth::confirm_totp_setup(*s, auth::principal_kind::customer, who.id, code, event);
  json::array list;
  for (const auto& c : codes) {
    list.emplace_back(c);
  }
  co_return json_response(200, json::object{{"recovery_codes", std::move(list)}});
}

}  // namespace

net::awaitable<void> delete_customer(app_services& s, const request& req, std::uint64_t user_id,
                                     std::string actor_kind, std::uint64_t actor_id) {
  auto now = s.clk.now();
  auto event = auth::audit_for(req, actor_kind, actor_id, "user.deleted", "user:" + std::to_string(user_id));
  auto* services = &s;
  auto unit14 = [services, user_id, now, event](sql::Connection& conn) {
    auto user = user_repository::by_id(conn, user_id, true);
    if (!user || user->status == "deleted") {
      return false;
    }
    if (!user->email.empty()) {
      services->enqueue_mail(conn, user->email, "account_deleted", user->locale, {});
    }
    user_repository::anonymise(conn, user_id, now);
    services->sessions.revoke_all(conn, auth::principal_kind::customer, user_id);
    services->tokens.revoke_all(conn, auth::principal_kind::customer, user_id);
    auth::forget_second_factor(conn, auth::principal_kind::customer, user_id);
    services->audit(conn, event);
    return true;
  };
  bool found = co_await s.pool.transact(std::move(unit14));
  if (!found) {
    throw api_error(404, "not_found", "no such account");
  }
  s.wake_mailer();
}

void add_customer_auth_routes(http::router& routes, app_services& services) {
  auto* s = &services;
  routes.add("POST", "/api/v1/auth/register", [s](request& req) { return register_user(s, req); });
  routes.add("POST", "/api/v1/auth/verify-email", [s](request& req) { return verify_email(s, req); });
  routes.add("POST", "/api/v1/auth/resend-verification", [s](request& req) { return resend_verification(s, req); });
  routes.add("POST", "/api/v1/auth/login", [s](request& req) { return login(s, req); });
  routes.add("POST", "/api/v1/auth/logout", [s](request& req) { return logout(s, req); });
  routes.add("POST", "/api/v1/auth/password-reset", [s](request& req) { return request_password_reset(s, req); });
  routes.add("POST", "/api/v1/auth/password-reset/confirm",
             [s](request& req) { return confirm_password_reset(s, req); });
  routes.add("GET", "/api/v1/me", [s](request& req) { return me(s, req); });
  routes.add("POST", "/api/v1/me/password", [s](request& req) { return change_password(s, req); });
  routes.add("DELETE", "/api/v1/me", [s](request& req) { return delete_account(s, req); });
  routes.add("POST", "/api/v1/me/mfa/setup", [s](request& req) { return customer_mfa_setup(s, req); });
  routes.add("POST", "/api/v1/me/mfa/enable", [s](request& req) { return customer_mfa_enable(s, req); });
}

}  // namespace derpmgr::controller::accounts
