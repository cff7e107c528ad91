#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "shared/protocol/messages.hpp"

namespace boost::asio::ssl {
class context;
}

namespace derpmgr::agent {

struct agent_identity;

// host and port of an https:// URL; throws std::invalid_argument naming what is wrong.
struct controller_endpoint {
  std::string host;
  std::string port;
  static controller_endpoint parse(const std::string& url);
};

// TLS for the channel: our client certificate, and the controller verified against the internal CA alone, for
// server use (an agent certificate, which has only clientAuth, cannot pose as the controller).
std::shared_ptr<boost::asio::ssl::context> channel_tls_context(const agent_identity& identity);

// Enrollment failed: the controller's error code (or "unreachable", "untrusted_server") and its message.
class enroll_failure : public std::runtime_error {
 public:
  enroll_failure(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// POST /agent/v1/enroll. The server must present a chain holding the CA whose SHA-256 is `ca_fingerprint`, and its
// certificate must verify against that CA for server use, before the token is sent. Blocking; throws enroll_failure.
protocol::enroll_response enroll_over_tls(const std::string& controller_url, const std::string& ca_fingerprint,
                                          const protocol::enroll_request& request, std::chrono::seconds timeout);

}  // namespace derpmgr::agent
