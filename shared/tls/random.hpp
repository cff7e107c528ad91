#pragma once

#include <cstddef>
#include <string>

namespace derpmgr {

// `n` bytes from the OpenSSL CSPRNG; throws std::runtime_error if it fails.
std::string random_bytes(std::size_t n);
// `n` random bytes as lowercase hex.
std::string random_hex(std::size_t n);
// Lowercase hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

}  // namespace derpmgr
