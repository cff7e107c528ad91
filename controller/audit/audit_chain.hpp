#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "controller/audit/audit_record.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::audit {

// The prev_hash of row 1, and the hash audit_head starts with.
inline constexpr std::string_view genesis_hash = "0000000000000000000000000000000000000000000000000000000000000000";

// The bytes a row's hash covers: the tag "derpmgr-audit-v1", then prev_hash, seq (decimal), at (as SQL DATETIME(6)
// text, always six fractional digits), actor_kind, actor_id (decimal, empty for NULL), action, target, ip,
// user_agent and details, each written as <byte length>:<bytes>, so no two different rows serialise alike.
std::string chain_text(const audit_record& record);

// SHA-256 (lowercase hex) of chain_text(record): what audit_log.hash must hold.
std::string chain_hash(const audit_record& record);

// The row `entry` becomes as number `seq`, written at `at` after a row hashed `prev_hash`: the action and target
// checked, ip and user_agent fitted to their columns as valid UTF-8, the hash filled in. Throws invalid_audit_entry
// for an action that is empty, longer than 64 or not of [a-z0-9._-], or a target that is not valid UTF-8 of at
// most 128 characters.
audit_record seal(const audit_entry& entry, std::uint64_t seq, time_point at, std::string_view prev_hash);

}  // namespace derpmgr::controller::audit
