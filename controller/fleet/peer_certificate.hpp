#pragma once

#include <cstdint>
#include <string>

typedef struct ssl_st SSL;

namespace derpmgr {
class certificate_authority;
}

namespace derpmgr::controller::fleet {

// The outcome of checking an agent's client certificate after the TLS handshake.
struct peer_check {
  bool ok = false;
  std::uint64_t node_id = 0;  // from the certificate's common name
  std::string serial_hex;
  std::string reason;  // why it was refused (for the log and the 401 body)
};

// Verifies the peer's certificate chain against the internal CA alone, now, for client authentication
// (TLS client purpose: clientAuth usage), and reads the node identity. Does not consult revocation.
peer_check check_agent_certificate(SSL* ssl, const certificate_authority& ca);

}  // namespace derpmgr::controller::fleet
