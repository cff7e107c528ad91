#pragma once

#include <string>

#include "controller/auth/principal.hpp"
#include "controller/auth/session_store.hpp"
#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::db {
class connection_pool;
}

namespace derpmgr::controller::auth {

class api_token_store;

inline constexpr const char* customer_cookie = "__Host-derpmgr_session";
inline constexpr const char* admin_cookie = "__Host-derpmgr_admin";
inline constexpr const char* csrf_cookie = "__Host-derpmgr_csrf";

// Session lifetimes and the origin browsers must come from.
struct auth_settings {
  session_policy customer{std::chrono::hours(24 * 7), std::chrono::hours(24 * 30)};
  session_policy admin{std::chrono::minutes(15), std::chrono::hours(12)};
  std::string public_origin;  // scheme://host[:port] of public_url; empty: https://<Host header>
};

// Establishes who a request comes from (session cookie or Bearer API token) and enforces CSRF for cookie
// requests that change state.
class authenticator {
 public:
  authenticator(db::connection_pool& pool, const session_store& sessions, const api_token_store& tokens,
                auth_settings settings);

  // The caller, or api_error 401 (no or dead credentials), 403 (CSRF/Origin failure, disabled account, admin who
  // has not completed MFA unless `allow_pre_mfa`).
  net::awaitable<principal> require(const http::request& req, principal_kind kind, bool allow_pre_mfa = false) const;

  // For anonymous state-changing browser requests (login, register): a foreign Origin → 403.
  void check_origin(const http::request& req) const;

  const auth_settings& settings() const { return settings_; }

 private:
  void check_csrf(const http::request& req) const;

  db::connection_pool& pool_;
  const session_store& sessions_;
  const api_token_store& tokens_;
  auth_settings settings_;
};

// True for methods that may change state (everything but GET, HEAD, OPTIONS).
bool is_state_changing(const std::string& method);

// 403 unless the principal holds `permission`.
void require_permission(const principal& who, const std::string& permission);

}  // namespace derpmgr::controller::auth
