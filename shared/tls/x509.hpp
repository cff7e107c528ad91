#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace derpmgr {

// A PEM private key and certificate.
struct pem_pair {
  std::string key_pem;
  std::string cert_pem;
};

// A new ECDSA P-256 private key in PKCS#8 PEM.
std::string generate_ec_key_pem();

// A self-signed server certificate for `host` (an IP literal becomes an IP SAN, anything else a DNS SAN),
// valid from now - 1 h for `lifetime`. Throws std::runtime_error on OpenSSL failure.
pem_pair make_self_signed(const std::string& host, std::chrono::seconds lifetime);

// "sha256-raw:<hex SHA-256 of the leaf certificate's DER>", the DERP map CertName pin.
std::string sha256_raw_pin(const std::string& cert_pem);

// Returns the cert/key paths under `dir`, creating a self-signed pair for `host` (key mode 0600) if absent.
std::pair<std::filesystem::path, std::filesystem::path> ensure_self_signed_files(const std::filesystem::path& dir,
                                                                                 const std::string& host);

// Writes `content` to `path` atomically (temp file, fsync, rename) with the given permission bits.
void write_file_atomic(const std::filesystem::path& path, const std::string& content, std::filesystem::perms mode);

std::string read_file(const std::filesystem::path& path);

}  // namespace derpmgr
