#pragma once

#include <string>

namespace derpmgr::protocol {

// An enrollment token's parts. Its text is "dmt1.<secret>.<CA fingerprint>": the agent pins the controller's agent
// CA by the fingerprint before it sends the secret anywhere.
struct enrollment_token_parts {
  std::string secret;          // 32 lowercase hex characters (128 bits)
  std::string ca_fingerprint;  // SHA-256 of the CA certificate's DER, 64 lowercase hex characters
};

std::string format_enrollment_token(const enrollment_token_parts& parts);
// Throws std::invalid_argument when `text` is not a token.
enrollment_token_parts parse_enrollment_token(const std::string& text);

}  // namespace derpmgr::protocol
