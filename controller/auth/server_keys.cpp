#include "controller/auth/server_keys.hpp"

#include <stdexcept>

#include "shared/tls/hashing.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/x509.hpp"

namespace derpmgr::controller::auth {

namespace {

std::string derive(const std::string& master, const std::string& purpose) {
  return hmac_sha256(master, "derpmgr:" + purpose);
}

}  // namespace

server_keys::server_keys(std::string master)
    : token_key_(derive(master, "token-hmac")),
      code_key_(derive(master, "code-hmac")),
      totp_key_(derive(master, "totp-aes")),
      serial_key_(derive(master, "serial-aes")),
      serial_lookup_key_(derive(master, "serial-hmac")),
      allocation_key_(derive(master, "allocation-aes")),
      admission_key_(derive(master, "admission-hmac")) {
  if (master.size() != 32) {
    throw std::runtime_error("the master key must be 32 bytes");
  }
}

server_keys server_keys::load_or_create(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    std::filesystem::create_directories(file.parent_path());
    write_file_atomic(file, random_bytes(32), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  auto master = read_file(file);
  if (master.size() != 32) {
    throw std::runtime_error("master key " + file.string() + " must hold exactly 32 bytes");
  }
  return server_keys(master);
}

std::string server_keys::token_hash(const std::string& secret) const { return to_hex(hmac_sha256(token_key_, secret)); }

std::string server_keys::code_hash(const std::string& purpose, std::uint64_t owner, const std::string& code) const {
  return to_hex(hmac_sha256(code_key_, purpose + ":" + std::to_string(owner) + ":" + code));
}

std::string server_keys::admission_token(std::uint64_t allocation_id, std::uint64_t config_version) const {
  return to_hex(hmac_sha256(admission_key_, std::to_string(allocation_id) + ":" + std::to_string(config_version)))
      .substr(0, 32);
}

}  // namespace derpmgr::controller::auth
