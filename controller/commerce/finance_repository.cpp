#include "controller/commerce/finance_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <stdexcept>

#include "controller/db/statements.hpp"

namespace derpmgr::controller::commerce {

namespace {

using db::prepare;
using results = std::unique_ptr<sql::ResultSet>;

std::int64_t count_between(sql::Connection& conn, const std::string& query, const business_month& m) {
  auto ps = prepare(conn, query);
  ps->setString(1, format_sql_datetime(m.starts_at));
  ps->setString(2, format_sql_datetime(m.ends_at));
  results rs(ps->executeQuery());
  rs->next();
  return rs->getInt64(1);
}

}  // namespace

finance_figures finance_repository::load(sql::Connection& conn, const std::vector<business_month>& months,
                                         time_point now) {
  if (months.empty()) {
    throw std::logic_error("finance_repository::load needs at least one month");
  }
  finance_figures f;
  const auto& current = months.back();
  // One range scan per month on orders_created; twelve small queries beat grouping every order by a
  // time-zone-dependent expression.
  auto per_month = prepare(conn,
                           "SELECT CAST(COALESCE(SUM(amount_cents), 0) AS SIGNED), COUNT(*) FROM orders "
                           "WHERE status = 'completed' AND created_at >= ? AND created_at < ?");
  for (const auto& m : months) {
    per_month->setString(1, format_sql_datetime(m.starts_at));
    per_month->setString(2, format_sql_datetime(m.ends_at));
    results rs(per_month->executeQuery());
    rs->next();
    f.months.push_back(month_revenue{m, rs->getInt64(1), rs->getInt64(2)});
  }
  {
    auto ps = prepare(conn,
                      "SELECT CAST(COALESCE(SUM(amount_cents), 0) AS SIGNED), COUNT(*) FROM orders "
                      "WHERE status = 'completed'");
    results rs(ps->executeQuery());
    rs->next();
    f.revenue_total_cents = rs->getInt64(1);
    f.orders_total = rs->getInt64(2);
  }
  {
    auto ps = prepare(conn,
                      "SELECT o.plan_id, COALESCE(MAX(p.name), ''), CAST(SUM(o.amount_cents) AS SIGNED), COUNT(*), "
                      "CAST(SUM(IF(o.created_at >= ? AND o.created_at < ?, o.amount_cents, 0)) AS SIGNED), "
                      "CAST(SUM(IF(o.created_at >= ? AND o.created_at < ?, 1, 0)) AS SIGNED) "
                      "FROM orders o LEFT JOIN plans p ON p.id = o.plan_id WHERE o.status = 'completed' "
                      "GROUP BY o.plan_id ORDER BY o.plan_id");
    for (int i : {1, 3}) {
      ps->setString(i, format_sql_datetime(current.starts_at));
      ps->setString(i + 1, format_sql_datetime(current.ends_at));
    }
    results rs(ps->executeQuery());
    while (rs->next()) {
      f.plans.push_back(plan_revenue{rs->getUInt64(1), std::string(rs->getString(2)), rs->getInt64(3),
                                     rs->getInt64(4), rs->getInt64(5), rs->getInt64(6)});
    }
  }
  {
    auto ps = prepare(conn, "SELECT CAST(COALESCE(SUM(balance_cents), 0) AS SIGNED) FROM users");
    results rs(ps->executeQuery());
    rs->next();
    f.prepaid_outstanding_cents = rs->getInt64(1);
  }
  {
    auto ps = prepare(conn,
                      "SELECT COUNT(*) FROM rentals WHERE status IN ('pending', 'active', 'limited') AND "
                      "expires_at > ?");
    ps->setString(1, format_sql_datetime(now));
    results rs(ps->executeQuery());
    rs->next();
    f.active_rentals = rs->getInt64(1);
  }
  f.new_customers = count_between(conn,
                                  "SELECT COUNT(*) FROM (SELECT MIN(created_at) AS first FROM orders "
                                  "WHERE status = 'completed' GROUP BY user_id) f WHERE f.first >= ? AND f.first < ?",
                                  current);
  f.new_registrations = count_between(conn, "SELECT COUNT(*) FROM users WHERE created_at >= ? AND created_at < ?",
                                      current);
  return f;
}

}  // namespace derpmgr::controller::commerce
