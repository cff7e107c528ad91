#pragma once

#include <string>
#include <vector>

#include "controller/app/app_services.hpp"
#include "controller/auth/principal.hpp"
#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::auth {

// Charges one attempt against the per-account key (when non-empty) and the client's IP for `action`;
// throws api_error 429 with Retry-After when either must wait.
void limit_attempt(app_services& s, const http::request& req, const std::string& action, const std::string& account);
// Forgets the account's failures after a success.
void clear_attempts(app_services& s, const std::string& action, const std::string& account);

// Checks `password` against `hash` on the hashing pool (an empty hash does the same work and fails, so timing does
// not tell whether an account exists). A full pool answers api_error 503 with Retry-After.
net::awaitable<bool> verify_password(app_services& s, std::string hash, std::string password);

// 403 for API tokens: account security (password, deletion, MFA) is changed only in a signed-in session.
void require_session(const principal& who);

// The User-Agent header cut to what the database stores.
std::string user_agent_of(const http::request& req);

// An audit_event pre-filled with the request's IP and User-Agent.
audit_event audit_for(const http::request& req, const std::string& actor_kind, std::uint64_t actor_id,
                      std::string action, std::string target);

}  // namespace derpmgr::controller::auth
