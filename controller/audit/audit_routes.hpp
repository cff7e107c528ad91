#pragma once

#include <cstddef>
#include <string>

#include "controller/audit/audit_log.hpp"
#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::db {
class connection_pool;
}

namespace derpmgr::controller::audit {

// An admin's audit list request, validated.
struct audit_list_query {
  audit_filter filter;
  std::size_t limit = 50;
  std::string cursor;  // empty: the newest page
};

// Parses ?limit=&cursor=&action=&actor_kind=&actor_id=&target=&from=&to=. limit is 1-200 (default 50); action is
// exact, or a prefix when it ends in '*' ("admin.mfa.*"); actor_kind is admin|customer|system|agent; from/to are
// RFC 3339 times (from inclusive, to exclusive). Throws http::api_error 400 naming the parameter for a bad value,
// an unknown parameter or one given twice.
audit_list_query parse_audit_list_query(const http::request& req);

// GET /api/v1/admin/audit-log: answers {"items":[...],"next_cursor":"…"|null}, newest first. The caller checks the
// permission (audit:read). The request is parsed before this returns (a bad one throws http::api_error 400 here)
// and not referred to afterwards; `pool` must outlive the returned awaitable.
net::awaitable<http::response> handle_audit_list(db::connection_pool& pool, const http::request& req);

}  // namespace derpmgr::controller::audit
