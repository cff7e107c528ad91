#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/app/app_services.hpp"
#include "controller/auth/principal.hpp"
#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::auth {

// What an admin or customer needs to add the secret to an authenticator app.
struct totp_enrolment {
  std::string secret_base32;
  std::string otpauth_uri;
  std::string qr_svg;
};

// True when the subject has confirmed TOTP.
net::awaitable<bool> has_second_factor(app_services& s, principal_kind kind, std::uint64_t id);

// Passes when the subject has no TOTP, or `code` is a current TOTP code (each 30 s step accepted once) or an unused
// recovery code (then spent). Otherwise api_error 401: totp_required (no code) or invalid_totp.
net::awaitable<void> check_second_factor(app_services& s, principal_kind kind, std::uint64_t id,
                                         std::optional<std::string> code);

// Stores a new pending secret (replacing an unconfirmed one); 409 when TOTP is already enabled.
net::awaitable<totp_enrolment> begin_totp_setup(app_services& s, principal_kind kind, std::uint64_t id,
                                                std::string account_label);

// Confirms the pending secret with a current code and returns 10 fresh recovery codes (shown once);
// 400 invalid_totp on a wrong code, 409 when nothing is pending.
net::awaitable<std::vector<std::string>> confirm_totp_setup(app_services& s, principal_kind kind, std::uint64_t id,
                                                            std::string code, audit_event event);

// Removes TOTP and recovery codes (admin reset of another admin's MFA, account deletion); in the caller's unit.
void forget_second_factor(sql::Connection& conn, principal_kind kind, std::uint64_t id);

// Records a login attempt or similar in auth_events (not the audit chain).
net::awaitable<void> record_auth_event(app_services& s, const http::request& req, std::string kind,
                                       std::uint64_t subject, std::string email, std::string event);

}  // namespace derpmgr::controller::auth
