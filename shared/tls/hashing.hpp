#pragma once

#include <string>
#include <string_view>

namespace derpmgr {

// SHA-256 of `data` as lowercase hex.
std::string sha256_hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`, raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace derpmgr
