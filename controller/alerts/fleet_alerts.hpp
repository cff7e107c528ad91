#pragma once

#include "controller/alerts/alert_plan.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller {
struct app_services;
}
namespace derpmgr::controller::fleet {
struct liveness_policy;
}

namespace derpmgr::controller::alerts {

// The fleet's alert conditions (DESIGN §4: "a node offline raises an alert at once"; a degraded rental alerts).
class fleet_alerts {
 public:
  // Enrolled nodes the liveness policy calls offline hold node_offline; nodes still reconnecting after this
  // controller's restart are undecided, so a restart neither raises nor resolves their alerts.
  static condition_scan offline_nodes(sql::Connection& conn, const fleet::liveness_policy& liveness, time_point now);
  // Active rentals flagged degraded hold rental_degraded.
  static condition_scan degraded_rentals(sql::Connection& conn);
  // Brings the open alerts in line with both scans, in the caller's transaction (the job's lease row): raises what
  // holds, resolves what cleared, and emails each newly raised alert to the active admins holding nodes:write --
  // unless the same alert was resolved less than `mail_quiet` ago: a flapping node is mailed about once, when it
  // starts, while each return of the condition is still listed. Returns how many alerts were raised.
  static constexpr auto mail_quiet = std::chrono::hours(1);
  static int check(sql::Connection& conn, const app_services& services, const fleet::liveness_policy& liveness,
                   time_point now);
};

}  // namespace derpmgr::controller::alerts
