#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::commerce {

// A plan's terms (DESIGN §4 plans).
struct plan_terms {
  std::string name;
  std::int64_t duration_days = 30;
  std::uint64_t traffic_quota_bytes = 0;  // 0: unmetered
  std::int64_t device_limit = 5;
  std::optional<std::int64_t> bandwidth_mbps;  // none: uncapped
  std::int64_t price_cents = 0;
  std::int64_t replicas = 3;
  std::vector<std::string> regions;  // empty: any region
  bool active = true;
};

// A stored plan.
struct plan_row {
  std::uint64_t id = 0;
  plan_terms terms;
  time_point created_at{};
  time_point updated_at{};
};

// SQL for plans. Every method runs inside the caller's unit of work.
class plan_repository {
 public:
  // nullopt when the name is taken.
  static std::optional<std::uint64_t> insert(sql::Connection& conn, const plan_terms& terms, time_point now);
  // false when there is no such plan; `name_clash` is set (and nothing changes) when another plan has the name.
  static bool update(sql::Connection& conn, std::uint64_t id, const plan_terms& terms, time_point now,
                     bool& name_clash);
  static std::optional<plan_row> by_id(sql::Connection& conn, std::uint64_t id);
  static std::vector<plan_row> list(sql::Connection& conn, bool active_only);
};

}  // namespace derpmgr::controller::commerce
