#pragma once

#include <filesystem>
#include <string>

namespace derpmgr::controller::auth {

// Keys derived from the installation's master key (a 32-byte file shared by all replicas): one per purpose, so
// a leak of one derived key exposes nothing else.
class server_keys {
 public:
  // Reads the master key from `file`, creating it (mode 0600) when absent. Throws std::runtime_error when it
  // exists but is not 32 bytes.
  static server_keys load_or_create(const std::filesystem::path& file);
  // For tests.
  explicit server_keys(std::string master);

  // HMAC-SHA256 (hex) of a high-entropy secret (session and API tokens, reset tokens, recovery codes) for lookup.
  std::string token_hash(const std::string& secret) const;
  // HMAC-SHA256 (hex) of a short code bound to its owner and purpose, so equal codes of two users never match.
  std::string code_hash(const std::string& purpose, std::uint64_t owner, const std::string& code) const;
  // AES-256-GCM key for TOTP secrets at rest.
  const std::string& totp_key() const { return totp_key_; }
  // AES-256-GCM key for serial codes at rest, and the HMAC key for serial lookup.
  const std::string& serial_key() const { return serial_key_; }
  const std::string& serial_lookup_key() const { return serial_lookup_key_; }
  // AES-256-GCM key for allocation (container certificate) private keys at rest.
  const std::string& allocation_key() const { return allocation_key_; }
  // The admission token of one allocation version: derived, never stored (128 bits, hex), so every replica and
  // every snapshot give the agent the same value and a new config version gets a new token.
  std::string admission_token(std::uint64_t allocation_id, std::uint64_t config_version) const;

 private:
  std::string token_key_;
  std::string code_key_;
  std::string totp_key_;
  std::string serial_key_;
  std::string serial_lookup_key_;
  std::string allocation_key_;
  std::string admission_key_;
};

}  // namespace derpmgr::controller::auth
