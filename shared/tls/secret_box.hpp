#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace derpmgr {

// A sealed box could not be opened (tampered, truncated, wrong key or wrong associated data), or a key is malformed.
class secret_box_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Authenticated encryption of small secrets at rest (TOTP secrets and the like) with AES-256-GCM.
namespace secret_box {

inline constexpr std::size_t key_size = 32;
inline constexpr std::size_t nonce_size = 12;
inline constexpr std::size_t tag_size = 16;

// Encrypts `plaintext` under a 32-byte `key`, binding `associated_data` (e.g. "user:42"), with a fresh random
// nonce; returns nonce || ciphertext || tag. Throws secret_box_error if the key is not 32 bytes.
std::string seal(std::string_view key, std::string_view plaintext, std::string_view associated_data);

// The plaintext of a box made by seal() with the same key and associated data; throws secret_box_error otherwise.
std::string open(std::string_view key, std::string_view box, std::string_view associated_data);

// A 32-byte key for one purpose ("totp", "serials", "tokens", …): HMAC-SHA256(master, "derpmgr:" + purpose), so
// keys for different purposes are independent. Throws secret_box_error if `master` is shorter than 32 bytes.
std::string derive_key(std::string_view master, std::string_view purpose);

}  // namespace secret_box

}  // namespace derpmgr
