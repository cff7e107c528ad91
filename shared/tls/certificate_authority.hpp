#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "shared/tls/x509.hpp"

namespace derpmgr {

// What the agent channel needs to know about a certificate.
struct certificate_info {
  std::string serial_hex;  // lowercase hex, no leading zeros beyond one byte pairs as OpenSSL prints them
  std::string common_name;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::string sha256_hex;  // of the DER encoding
  bool is_ca = false;
  bool client_auth = false;
  bool server_auth = false;
};

// Parses a PEM certificate; throws std::invalid_argument when it is not one.
certificate_info inspect_certificate(const std::string& cert_pem);

// A certificate signing request for `key_pem` with an empty subject: the issuer decides the identity.
std::string make_csr(const std::string& key_pem);

// True when the certificate carries the public half of `key_pem`.
bool key_matches_certificate(const std::string& key_pem, const std::string& cert_pem);

// What an issued certificate is for.
enum class certificate_usage { client, server };

struct certificate_request {
  std::string csr_pem;
  std::string common_name;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries (may be empty)
  certificate_usage usage = certificate_usage::client;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

struct issued_certificate {
  std::string cert_pem;
  std::string serial_hex;
  std::chrono::system_clock::time_point not_after;
};

// The internal certificate authority that signs agent (client) and agent-listener (server) certificates.
// Only the public key and a verified signature are taken from a CSR; the subject comes from the request.
class certificate_authority {
 public:
  // A new self-signed ECDSA P-256 CA.
  static certificate_authority create(const std::string& common_name, std::chrono::seconds lifetime);
  // Throws std::invalid_argument when the key does not belong to the certificate or it is not a CA.
  certificate_authority(std::string cert_pem, std::string key_pem);

  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }
  // SHA-256 of the CA certificate's DER, lowercase hex: the pin an enrollment token carries.
  std::string fingerprint() const;

  // Throws std::invalid_argument when the CSR is malformed, not ECDSA P-256, or its signature does not verify.
  issued_certificate issue(const certificate_request& request) const;

 private:
  std::string cert_pem_;
  std::string key_pem_;
};

}  // namespace derpmgr
