#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

namespace derpmgr::standin {

// The server's Curve25519 identity, as derper keeps it in its -c file.
class server_key {
 public:
  // Reads `path` ({"PrivateKey":"privkey:<64 hex>"}), or creates it when missing: parent directories first, then
  // the file written atomically with mode 0600, as derper does. Throws std::runtime_error on a bad or unreadable file.
  static server_key load_or_create(const std::filesystem::path& path);
  // A fresh key kept in memory only (derper's -dev mode).
  static server_key generate();

  bool created() const { return created_; }
  // The public key in lower-case hex (what derper sends as Derp-Public-Key).
  std::string public_hex() const;

 private:
  std::array<std::uint8_t, 32> private_{};
  bool created_ = false;
};

}  // namespace derpmgr::standin
