#include "controller/alerts/fleet_alerts.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <vector>

#include "controller/admins/admin_repository.hpp"
#include "controller/app/app_services.hpp"
#include "controller/db/statements.hpp"
#include "controller/fleet/node_liveness.hpp"
#include "controller/fleet/node_repository.hpp"

namespace derpmgr::controller::alerts {

namespace {

using db::prepare;
using results = std::unique_ptr<sql::ResultSet>;

// "2026-11-28 17:59 UTC"
std::string minutes_utc(time_point t) {
  return format_sql_datetime(t).substr(0, 16) + " UTC";
}

}  // namespace

condition_scan fleet_alerts::offline_nodes(sql::Connection& conn, const fleet::liveness_policy& liveness,
                                           time_point now) {
  condition_scan scan{"node_offline", "node", {}, {}};
  for (const auto& n : fleet::node_repository::list(conn)) {
    if (!n.enrolled_at) {
      continue;
    }
    switch (liveness.of(n, now)) {
      case fleet::node_liveness::offline:
        scan.holding.push_back(new_alert{{scan.kind, scan.subject_type, n.id},
                                         "critical",
                                         "node " + n.settings.name + " (" + n.settings.region +
                                             ") is offline; last seen " +
                                             (n.last_seen_at ? minutes_utc(*n.last_seen_at) : std::string("never"))});
        break;
      case fleet::node_liveness::reconnecting:
        scan.undecided.insert(n.id);
        break;
      case fleet::node_liveness::pending:
      case fleet::node_liveness::online:
        break;
    }
  }
  return scan;
}

condition_scan fleet_alerts::degraded_rentals(sql::Connection& conn) {
  condition_scan scan{"rental_degraded", "rental", {}, {}};
  auto ps = prepare(conn,
                    "SELECT r.id, r.replicas, (SELECT COUNT(*) FROM allocations a WHERE a.rental_id = r.id AND "
                    "a.released_at IS NULL AND a.state = 'running') FROM rentals r "
                    "WHERE r.degraded AND r.status = 'active'");
  results rs(ps->executeQuery());
  while (rs->next()) {
    auto id = rs->getUInt64(1);
    scan.holding.push_back(new_alert{{scan.kind, scan.subject_type, id},
                                     "warning",
                                     "rental " + std::to_string(id) +
                                         " is degraded: " + std::to_string(rs->getInt64(3)) + " of " +
                                         std::to_string(rs->getInt64(2)) + " servers placed"});
  }
  return scan;
}

int fleet_alerts::check(sql::Connection& conn, const app_services& services, const fleet::liveness_policy& liveness,
                        time_point now) {
  std::vector<new_alert> mailed;
  int count = 0;
  for (const auto& scan : {offline_nodes(conn, liveness, now), degraded_rentals(conn)}) {
    auto changes = plan_alert_changes(scan, alert_repository::open_subjects(conn, scan.kind, scan.subject_type));
    for (const auto& key : changes.resolve) {
      alert_repository::resolve(conn, key, now);
    }
    for (auto& alert : changes.raise) {
      bool again = alert_repository::resolved_since(conn, alert.key, now - mail_quiet);
      if (alert_repository::raise(conn, alert, now)) {
        spdlog::warn("alert: {}{}", alert.message, again ? " (again within the hour: not mailed)" : "");
        ++count;
        if (!again) {
          mailed.push_back(std::move(alert));
        }
      }
    }
  }
  if (mailed.empty()) {
    return count;
  }
  auto recipients = admins::admin_repository::emails_with_permission(conn, "nodes:write");
  for (const auto& alert : mailed) {
    for (const auto& to : recipients) {
      // Admins have no locale of their own yet: English, as for the other admin mail.
      services.enqueue_mail(conn, to, "alert_raised", "en",
                            {{"kind", alert.key.kind},
                             {"severity", alert.severity},
                             {"message", alert.message},
                             {"raised_at", minutes_utc(now)}});
    }
  }
  return count;
}

}  // namespace derpmgr::controller::alerts
