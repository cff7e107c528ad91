#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/auth/principal.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::auth {

class server_keys;

// An API token as listed (never with its secret).
struct api_token_info {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::string> scopes;
  time_point created_at{};
  time_point expires_at{};
  std::optional<time_point> last_used_at;
  bool revoked = false;
};

// A token presented by a script, resolved.
struct api_token_owner {
  std::uint64_t id = 0;
  principal_kind kind = principal_kind::customer;
  std::uint64_t subject_id = 0;
  std::vector<std::string> scopes;
};

// Named, scoped, expiring API tokens, stored as HMAC; the secret is shown once at creation.
class api_token_store {
 public:
  api_token_store(const server_keys& keys, const clock& clk);

  // Returns {id, secret}.
  std::pair<std::uint64_t, std::string> create(sql::Connection& conn, principal_kind kind, std::uint64_t subject,
                                               const std::string& name, const std::vector<std::string>& scopes,
                                               time_point expires_at) const;
  std::vector<api_token_info> list(sql::Connection& conn, principal_kind kind, std::uint64_t subject) const;
  // False when the token is not the subject's or is already revoked.
  bool revoke(sql::Connection& conn, principal_kind kind, std::uint64_t subject, std::uint64_t id) const;
  void revoke_all(sql::Connection& conn, principal_kind kind, std::uint64_t subject) const;
  // The owner of a live (unexpired, unrevoked) token; records its last use at most once a minute.
  std::optional<api_token_owner> find(sql::Connection& conn, const std::string& secret) const;

 private:
  const server_keys& keys_;
  const clock& clock_;
};

}  // namespace derpmgr::controller::auth
