#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace derpmgr::controller::audit {

// The opaque next_cursor of an audit list page that ended at `last_seq`: the following page starts just before it.
std::string encode_audit_cursor(std::uint64_t last_seq);

// The seq a cursor from encode_audit_cursor() carries; throws invalid_audit_cursor for anything else.
std::uint64_t decode_audit_cursor(std::string_view cursor);

}  // namespace derpmgr::controller::audit
