#include "controller/auth/authenticator.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "controller/auth/api_token_store.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/cookies.hpp"

namespace derpmgr::controller::auth {

namespace {

std::unique_ptr<sql::PreparedStatement> prepare(sql::Connection& conn, const char* text) {
  return std::unique_ptr<sql::PreparedStatement>(conn.prepareStatement(text));
}

// Fills email, status checks and permissions for a resolved subject; false when the account is gone.
bool load_subject(sql::Connection& conn, principal& who, std::string& status) {
  if (who.kind == principal_kind::admin) {
    auto ps = prepare(conn, "SELECT email, status FROM admins WHERE id = ?");
    ps->setUInt64(1, who.id);
    std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
    if (!rs->next()) {
      return false;
    }
    who.email = rs->getString(1);
    status = rs->getString(2);
    auto perms = prepare(conn,
                         "SELECT DISTINCT rp.permission FROM admin_roles ar JOIN role_permissions rp ON "
                         "rp.role_id = ar.role_id WHERE ar.admin_id = ?");
    perms->setUInt64(1, who.id);
    std::unique_ptr<sql::ResultSet> prs(perms->executeQuery());
    while (prs->next()) {
      who.permissions.insert(prs->getString(1));
    }
    return true;
  }
  auto ps = prepare(conn, "SELECT email, status, email_verified_at IS NOT NULL FROM users WHERE id = ?");
  ps->setUInt64(1, who.id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return false;
  }
  who.email = rs->isNull(1) ? "" : std::string(rs->getString(1));
  status = rs->getString(2);
  who.email_verified = rs->getBoolean(3);
  for (const auto& scope : customer_scopes()) {
    who.permissions.insert(scope);
  }
  return true;
}

std::string bearer_of(const http::request& req) {
  const auto& h = req.header("authorization");
  if (h.size() > 7 && (h.rfind("Bearer ", 0) == 0 || h.rfind("bearer ", 0) == 0)) {
    return h.substr(7);
  }
  return {};
}

}  // namespace

bool is_state_changing(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

void require_permission(const principal& who, const std::string& permission) {
  if (!who.can(permission)) {
    throw http::api_error(403, "forbidden", "this needs the permission " + permission);
  }
}

authenticator::authenticator(db::connection_pool& pool, const session_store& sessions, const api_token_store& tokens,
                             auth_settings settings)
    : pool_(pool), sessions_(sessions), tokens_(tokens), settings_(std::move(settings)) {}

void authenticator::check_origin(const http::request& req) const {
  const auto& origin = req.header("origin");
  if (origin.empty()) {
    return;
  }
  std::string expected = settings_.public_origin.empty() ? "https://" + req.header("host") : settings_.public_origin;
  if (origin != expected) {
    throw http::api_error(403, "bad_origin", "requests must come from " + expected);
  }
}

void authenticator::check_csrf(const http::request& req) const {
  if (!is_state_changing(req.method)) {
    return;
  }
  const auto& origin = req.header("origin");
  std::string expected = settings_.public_origin.empty() ? "https://" + req.header("host") : settings_.public_origin;
  if (origin != expected) {
    throw http::api_error(403, "bad_origin", "state-changing requests must carry Origin " + expected);
  }
  auto cookies = http::parse_cookies(req.header("cookie"));
  auto it = cookies.find(csrf_cookie);
  const auto& header = req.header("x-csrf-token");
  if (it == cookies.end() || header.empty() || !http::constant_time_equal(it->second, header)) {
    throw http::api_error(403, "csrf_failed", "X-CSRF-Token must match the " + std::string(csrf_cookie) + " cookie");
  }
}

net::awaitable<principal> authenticator::require(const http::request& req, principal_kind kind,
                                                 bool allow_pre_mfa) const {
  std::string bearer = bearer_of(req);
  std::string token;
  if (bearer.empty()) {
    auto cookies = http::parse_cookies(req.header("cookie"));
    auto it = cookies.find(kind == principal_kind::admin ? admin_cookie : customer_cookie);
    if (it == cookies.end()) {
      throw http::api_error(401, "unauthenticated", "sign in first");
    }
    token = it->second;
    check_csrf(req);
  }
  const auto& policy = kind == principal_kind::admin ? settings_.admin : settings_.customer;
  const auto* sessions = &sessions_;
  const auto* tokens = &tokens_;
  auto unit = [sessions, tokens, kind, bearer, token, policy](sql::Connection& conn) {
    std::optional<principal> who;
    std::string status;
    if (!bearer.empty()) {
      auto owner = tokens->find(conn, bearer);
      if (!owner || owner->kind != kind) {
        return std::make_pair(who, status);
      }
      principal p;
      p.kind = kind;
      p.id = owner->subject_id;
      p.via_token = true;
      p.mfa_passed = true;
      if (!load_subject(conn, p, status)) {
        return std::make_pair(who, status);
      }
      permission_set scoped;
      for (const auto& scope : owner->scopes) {
        if (p.permissions.count(scope) != 0) {
          scoped.insert(scope);
        }
      }
      p.permissions = std::move(scoped);
      who = std::move(p);
      return std::make_pair(who, status);
    }
    auto session = sessions->find(conn, kind, token, policy);
    if (!session) {
      return std::make_pair(who, status);
    }
    principal p;
    p.kind = kind;
    p.id = session->subject_id;
    p.session_id = session->id;
    p.mfa_passed = session->mfa_passed;
    if (!load_subject(conn, p, status)) {
      return std::make_pair(who, status);
    }
    who = std::move(p);
    return std::make_pair(who, status);
  };
  auto result = co_await pool_.run(std::move(unit));
  auto& [who, status] = result;
  if (!who) {
    throw http::api_error(401, "unauthenticated", "the session or token is not valid; sign in again");
  }
  if (status != "active") {
    throw http::api_error(403, "account_disabled", "this account is " + status);
  }
  if (kind == principal_kind::admin && !who->mfa_passed && !allow_pre_mfa) {
    throw http::api_error(403, "mfa_required", "set up and confirm two-factor authentication first");
  }
  co_return std::move(*who);
}

}  // namespace derpmgr::controller::auth
