#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/audit/audit_chain_checker.hpp"
#include "controller/audit/audit_record.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::audit {

// Which rows an audit list returns; unset fields match everything.
struct audit_filter {
  std::optional<audit_actor> actor_kind;
  std::optional<std::uint64_t> actor_id;
  std::optional<std::string> action;  // exact, or a prefix when action_prefix is set
  bool action_prefix = false;
  std::optional<std::string> target;
  std::optional<time_point> from;  // at >= from
  std::optional<time_point> to;    // at < to
};

// One page of an audit list, newest first; next_cursor is set when older rows remain.
struct audit_page {
  std::vector<audit_record> items;
  std::optional<std::string> next_cursor;
};

// {"items":[...],"next_cursor":"…"|null}.
boost::json::object to_json(const audit_page& page);

// The hash-chained audit log in MySQL (tables audit_log and audit_head): appends within the caller's transaction,
// verifies the chain, lists rows for the admin API.
class audit_log {
 public:
  static constexpr std::size_t max_page_size = 200;

  // Appends `entry` as the next row, written at `now`, and returns its seq. Runs inside the caller's transaction
  // (throws std::logic_error on an autocommit connection), so the row exists exactly when the caller's change
  // commits; it locks audit_head until that commit, which serialises appenders, so call it last in the
  // transaction. Throws invalid_audit_entry for a malformed entry, audit_log_error when audit_head is missing.
  std::uint64_t append(sql::Connection& conn, const audit_entry& entry, time_point now) const;

  // Walks the rows up to the head in seq order and returns how many hold together and the first problem: a seq
  // gap, a prev_hash that does not link, a hash that does not match the text, a head the rows do not reach or
  // match, a row past the head. Reads without locking, so appends carry on meanwhile. Throws audit_log_error when
  // audit_head is missing.
  audit_verification verify(sql::Connection& conn) const;

  // Up to `limit` (1..max_page_size) rows matching `filter`, newest first, starting after `cursor` (empty: from the
  // newest). Throws invalid_audit_cursor for a cursor this build did not issue, std::invalid_argument for a bad
  // limit.
  audit_page list(sql::Connection& conn, const audit_filter& filter, std::size_t limit,
                  const std::string& cursor) const;
};

}  // namespace derpmgr::controller::audit
