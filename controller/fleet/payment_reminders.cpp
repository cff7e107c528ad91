#include "controller/fleet/payment_reminders.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <vector>

#include "controller/admins/admin_repository.hpp"
#include "controller/app/app_services.hpp"
#include "controller/db/statements.hpp"

namespace derpmgr::controller::fleet {

namespace {

struct due_node {
  std::uint64_t id;
  std::string name;
  std::string provider;
  std::string paid_until;
  std::int64_t days;
};

}  // namespace

int send_payment_reminders(sql::Connection& conn, const app_services& services, time_point now) {
  auto today = format_sql_datetime(now).substr(0, 10);
  auto find = db::prepare(conn,
                          "SELECT id, name, provider, paid_until, DATEDIFF(paid_until, ?) FROM nodes "
                          "WHERE deleted_at IS NULL AND paid_until IS NOT NULL AND DATEDIFF(paid_until, ?) <= 7 "
                          "AND (paid_reminder_for IS NULL OR paid_reminder_for <> paid_until) FOR UPDATE");
  find->setString(1, today);
  find->setString(2, today);
  std::unique_ptr<sql::ResultSet> rs(find->executeQuery());
  std::vector<due_node> due;
  while (rs->next()) {
    due.push_back({rs->getUInt64(1), rs->getString(2), rs->getString(3), rs->getString(4), rs->getInt64(5)});
  }
  if (due.empty()) {
    return 0;
  }
  auto recipients = admins::admin_repository::emails_with_permission(conn, "nodes:write");
  auto mark = db::prepare(conn, "UPDATE nodes SET paid_reminder_for = paid_until WHERE id = ?");
  for (const auto& n : due) {
    for (const auto& to : recipients) {
      services.enqueue_mail(conn, to, "node_payment_due", "en",
                            {{"node", n.name},
                             {"provider", n.provider.empty() ? "-" : n.provider},
                             {"paid_until", n.paid_until},
                             {"days", std::to_string(std::max<std::int64_t>(n.days, 0))}});
    }
    mark->setUInt64(1, n.id);
    mark->executeUpdate();
  }
  return static_cast<int>(due.size());
}

}  // namespace derpmgr::controller::fleet
