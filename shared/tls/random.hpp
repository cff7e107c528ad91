#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace derpmgr {

// `n` bytes from the OpenSSL CSPRNG; throws std::runtime_error if it fails.
std::string random_bytes(std::size_t n);
// `n` random bytes as lowercase hex.
std::string random_hex(std::size_t n);
// Lowercase hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);
// The bytes of a hex string; throws std::invalid_argument on odd length or a non-hex character.
std::string from_hex(std::string_view hex);

}  // namespace derpmgr
