#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "shared/clock/clock.hpp"
#include "shared/protocol/messages.hpp"

namespace sql {
class Connection;
}

namespace derpmgr {
class certificate_authority;
}

namespace derpmgr::controller::auth {
class server_keys;
}

namespace derpmgr::controller::fleet {

// An enrollment token as the admin sees it once: "dmt1.<secret>.<CA fingerprint>".
struct enrollment_token {
  std::string text;
  time_point expires_at{};
};

// An enrollment the controller refuses; `code` is the API error code.
class enrollment_error : public std::runtime_error {
 public:
  enrollment_error(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

// Enrollment of agents: one-time tokens (stored as HMAC, 1 h) and the certificate they buy.
class enrollment {
 public:
  static constexpr std::chrono::hours token_ttl{1};
  static constexpr std::chrono::hours certificate_lifetime{24 * 30};

  // A new token for the node, inside the caller's transaction.
  static enrollment_token create_token(sql::Connection& conn, const auth::server_keys& keys,
                                       const certificate_authority& ca, std::uint64_t node_id,
                                       std::uint64_t admin_id, time_point now);
  // Consumes the token and issues the node's client certificate in the caller's transaction; the certificate's
  // identity ("node-<id>") comes from the token's node, never from the CSR. Throws enrollment_error.
  static protocol::enroll_response enroll(sql::Connection& conn, const auth::server_keys& keys,
                                          const certificate_authority& ca, const protocol::enroll_request& request,
                                          time_point now);
  // A renewed certificate for a connected node (fresh key in the CSR); the previous serial stays valid until the
  // agent connects with the new one.
  static protocol::certificate renew(sql::Connection& conn, const certificate_authority& ca, std::uint64_t node_id,
                                     const std::string& csr_pem, time_point now);
};

// "node-<id>", the common name of a node's agent certificate.
std::string node_common_name(std::uint64_t node_id);
// The node id in a common name made by node_common_name, or 0.
std::uint64_t node_id_from_common_name(const std::string& common_name);

}  // namespace derpmgr::controller::fleet
