#include "controller/scheduler/job_lease.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "controller/db/statements.hpp"

namespace derpmgr::controller::scheduler {

bool take_lease(sql::Connection& conn, const std::string& job, const std::string& holder, time_point now,
                std::chrono::seconds ttl) {
  auto until = format_sql_datetime(now + ttl);
  auto at = format_sql_datetime(now);
  auto ps = db::prepare(conn,
                        "INSERT INTO job_leases (job, holder, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE "
                        "holder = IF(expires_at < ? OR holder = VALUES(holder), VALUES(holder), holder), "
                        "expires_at = IF(holder = VALUES(holder), VALUES(expires_at), expires_at)");
  ps->setString(1, job);
  ps->setString(2, holder);
  ps->setString(3, until);
  ps->setString(4, at);
  ps->executeUpdate();
  auto check = db::prepare(conn, "SELECT holder FROM job_leases WHERE job = ?");
  check->setString(1, job);
  std::unique_ptr<sql::ResultSet> rs(check->executeQuery());
  return rs->next() && rs->getString(1) == holder;
}

}  // namespace derpmgr::controller::scheduler
