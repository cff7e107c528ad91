#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::alerts {

// What an alert is about: a kind of condition ("node_offline") on one subject ("node" 42).
struct alert_key {
  std::string kind;
  std::string subject_type;
  std::uint64_t subject_id = 0;

  auto operator<=>(const alert_key&) const = default;
};

// An alert to raise: its key, how bad it is and what an admin reads.
struct new_alert {
  alert_key key;
  std::string severity;  // critical, warning
  std::string message;
};

// A stored alert (DESIGN §4 alerts).
struct alert_row {
  std::uint64_t id = 0;
  alert_key key;
  std::string severity;
  std::string message;
  time_point raised_at{};
  std::optional<time_point> resolved_at;
  std::optional<time_point> acknowledged_at;
  std::optional<std::uint64_t> acknowledged_by;  // admin id
};

// Which alerts a list shows, newest first; `before_id` is the cursor (ids below it).
struct alert_filter {
  std::optional<bool> open;
  std::string kind;  // empty: every kind
  std::optional<std::uint64_t> before_id;
  int limit = 50;
};

// SQL for alerts. Every method runs inside the caller's unit of work.
class alert_repository {
 public:
  // Raises the alert unless one is open for its key: the new id, or nullopt when one is open already (also when
  // another replica raised it concurrently; the unique key on open alerts decides).
  static std::optional<std::uint64_t> raise(sql::Connection& conn, const new_alert& alert, time_point now);
  // Resolves the open alert for `key`; false when none was open.
  static bool resolve(sql::Connection& conn, const alert_key& key, time_point now);
  // Whether an alert for `key` was resolved at or after `since`.
  static bool resolved_since(sql::Connection& conn, const alert_key& key, time_point since);
  // The subjects of `kind` with an open alert.
  static std::set<std::uint64_t> open_subjects(sql::Connection& conn, const std::string& kind,
                                               const std::string& subject_type);
  static std::vector<alert_row> list(sql::Connection& conn, const alert_filter& filter);
  static std::optional<alert_row> by_id(sql::Connection& conn, std::uint64_t id, bool for_update = false);
  // Records that `admin` has seen the alert; false when it was acknowledged already (nothing changes).
  static bool acknowledge(sql::Connection& conn, std::uint64_t id, std::uint64_t admin, time_point now);
};

}  // namespace derpmgr::controller::alerts
