#include "controller/auth/request_guard.hpp"

#include "controller/auth/crypto/password_hasher.hpp"
#include "controller/auth/rate_limiter.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::auth {

void limit_attempt(app_services& s, const http::request& req, const std::string& action, const std::string& account) {
  auto now = s.clk.now();
  std::optional<std::chrono::seconds> wait;
  if (auto ip_wait = s.ip_limiter.try_acquire({action + ":ip:" + req.remote_ip}, now)) {
    wait = ip_wait;
  } else if (!account.empty()) {
    wait = s.account_limiter.try_acquire({action + ":account:" + account}, now);
  }
  if (wait) {
    throw http::api_error(429, "too_many_attempts",
                          "too many attempts; try again in " + std::to_string(wait->count()) + " s")
        .with_header("Retry-After", std::to_string(wait->count()));
  }
}

void clear_attempts(app_services& s, const std::string& action, const std::string& account) {
  s.account_limiter.reset(action + ":account:" + account);
}

net::awaitable<bool> verify_password(app_services& s, std::string hash, std::string password) {
  try {
    if (hash.empty()) {
      co_await s.hasher.dummy_verify(std::move(password));
      co_return false;
    }
    co_return co_await s.hasher.verify(std::move(hash), std::move(password));
  } catch (const hasher_busy&) {
  }
  throw http::api_error(503, "busy", "too many sign-ins at once; try again in a moment").with_header("Retry-After", "1");
}

void require_session(const principal& who) {
  if (who.via_token) {
    throw http::api_error(403, "session_required", "sign in to change account security; API tokens cannot");
  }
}

std::string user_agent_of(const http::request& req) { return req.header("user-agent").substr(0, 255); }

audit_event audit_for(const http::request& req, const std::string& actor_kind, std::uint64_t actor_id,
                      std::string action, std::string target) {
  audit_event e;
  e.actor_kind = actor_kind;
  e.actor_id = actor_id;
  e.action = std::move(action);
  e.target = std::move(target);
  e.ip = req.remote_ip;
  e.user_agent = user_agent_of(req);
  return e;
}

}  // namespace derpmgr::controller::auth
