#pragma once

#include <optional>
#include <string>

namespace derpmgr::controller::accounts {

// The address normalised for storage and lookup (trimmed, lower-cased), or nullopt when it is not a
// plausible deliverable address (local@domain.tld, ≤ 254 bytes, no spaces or control characters).
std::optional<std::string> normalize_email(const std::string& input);

}  // namespace derpmgr::controller::accounts
