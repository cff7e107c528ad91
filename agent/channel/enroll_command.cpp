#include "agent/channel/enroll_command.hpp"

#include "agent/channel/agent_identity.hpp"
#include "agent/channel/controller_tls.hpp"
#include "shared/protocol/enrollment_token.hpp"
#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/x509.hpp"

namespace derpmgr::agent {

std::int64_t enroll_agent(const std::filesystem::path& state_dir, const std::string& controller_url,
                          const std::string& token) {
  auto parts = protocol::parse_enrollment_token(token);
  controller_endpoint::parse(controller_url);
  auto key = generate_ec_key_pem();
  auto answer = enroll_over_tls(controller_url, parts.ca_fingerprint, protocol::enroll_request{token, make_csr(key)},
                                std::chrono::seconds(20));
  if (inspect_certificate(answer.ca_pem).sha256_hex != parts.ca_fingerprint) {
    throw enroll_failure("untrusted_server", "the controller answered with a CA other than the one in the token");
  }
  if (!key_matches_certificate(key, answer.cert_pem)) {
    throw enroll_failure("bad_answer", "the certificate is not for this agent's key");
  }
  agent_identity identity{answer.node_id, controller_url, key, answer.cert_pem, answer.ca_pem};
  identity.save(state_dir);
  return answer.node_id;
}

}  // namespace derpmgr::agent
