#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "controller/auth/principal.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::auth {

class server_keys;

// How long a session lives: idle (since last use) and absolute (since login).
struct session_policy {
  std::chrono::seconds idle;
  std::chrono::seconds absolute;
};

// A live session row.
struct session_row {
  std::uint64_t id = 0;
  principal_kind kind = principal_kind::customer;
  std::uint64_t subject_id = 0;
  bool mfa_passed = false;
};

// Browser sessions: 256-bit tokens from the CSPRNG, stored only as HMAC. Every method runs inside the caller's
// unit of work.
class session_store {
 public:
  session_store(const server_keys& keys, const clock& clk);

  // Creates a session and returns its token (shown to the browser once, in a cookie).
  std::string create(sql::Connection& conn, principal_kind kind, std::uint64_t subject, bool mfa_passed,
                     const session_policy& policy, const std::string& ip, const std::string& user_agent) const;
  // The live session for `token` (idle and absolute timeouts applied); refreshes last use at most once a minute.
  std::optional<session_row> find(sql::Connection& conn, principal_kind kind, const std::string& token,
                                   const session_policy& policy) const;
  void revoke(sql::Connection& conn, std::uint64_t session_id) const;
  // Ends every session of a subject (password reset, disabling, deletion), except `keep` when non-zero.
  void revoke_all(sql::Connection& conn, principal_kind kind, std::uint64_t subject, std::uint64_t keep = 0) const;

 private:
  const server_keys& keys_;
  const clock& clock_;
};

}  // namespace derpmgr::controller::auth
