#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace derpmgr::controller::auth {

// Single-use MFA recovery codes: xxxxx-xxxxx-xxxxx in lowercase Crockford base32 (no i, l, o, u), 75 random bits
// each. Store them as HMACs of their normalized form.
namespace recovery_codes {

inline constexpr std::size_t default_count = 10;

// `count` distinct codes from the CSPRNG, already in normalized form.
std::vector<std::string> generate(std::size_t count = default_count);

// The canonical xxxxx-xxxxx-xxxxx form of what a user typed (case, dashes and spaces ignored; o read as 0, i and l
// as 1), or nullopt when it cannot be a recovery code.
std::optional<std::string> normalize(std::string_view input);

}  // namespace recovery_codes

}  // namespace derpmgr::controller::auth
