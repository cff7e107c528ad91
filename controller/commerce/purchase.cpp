#include "controller/commerce/purchase.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "controller/commerce/renewal.hpp"
#include "controller/commerce/serial_repository.hpp"
#include "controller/db/statements.hpp"
#include "controller/http/http_types.hpp"

namespace derpmgr::controller::commerce {

purchase_result apply_purchase(sql::Connection& conn, std::uint64_t user_id, const plan_row& plan,
                               const std::string& source, std::optional<std::uint64_t> serial_id,
                               std::int64_t amount_cents, time_point now) {
  // Purchases by one user are serialised on the user row: with no rental yet, FOR UPDATE on rentals locks nothing
  // (READ COMMITTED takes no gap locks), and two first purchases would each start a rental.
  auto lock = db::prepare(conn, "SELECT id FROM users WHERE id = ? FOR UPDATE");
  lock->setUInt64(1, user_id);
  std::unique_ptr<sql::ResultSet>(lock->executeQuery());
  auto current = serial_repository::current_rental(conn, user_id);
  if (current && current->period.status == "suspended") {
    throw http::api_error(409, "rental_suspended", "your rental is suspended; contact support");
  }
  std::optional<rental_period> period;
  if (current) {
    period = current->period;
  }
  auto next = renew(period, plan.terms, now);
  bool renewal = current && next.starts_at == current->period.starts_at;
  purchase_result out;
  out.rental_id = serial_repository::save_rental(conn, current ? current->id : 0, user_id, plan.id, plan.terms, next,
                                                 now);
  serial_repository::rental_event(conn, out.rental_id, current ? current->period.status : "", next.status,
                                  (renewal ? "renewed by " : "period started by ") + source, now);
  out.kind = renewal ? "renewal" : "new";
  out.order_number = serial_repository::insert_order(conn, user_id, plan.id, out.rental_id, source, serial_id,
                                                     out.kind, amount_cents, now);
  auto terms = db::prepare(conn, "UPDATE orders SET added_days = ?, added_quota_bytes = ? WHERE number = ?");
  terms->setInt64(1, plan.terms.duration_days);
  terms->setUInt64(2, plan.terms.traffic_quota_bytes);
  terms->setString(3, out.order_number);
  terms->executeUpdate();
  auto ps = db::prepare(conn, "SELECT id FROM orders WHERE number = ?");
  ps->setString(1, out.order_number);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  rs->next();
  out.order_id = rs->getUInt64(1);
  out.expires_at = next.expires_at;
  return out;
}

bool move_balance(sql::Connection& conn, std::uint64_t user_id, std::int64_t amount_cents, const std::string& kind,
                  const std::string& reason, std::optional<std::uint64_t> admin_id,
                  std::optional<std::uint64_t> order_id, time_point now) {
  // The condition makes the check and the change one step: concurrent debits cannot both pass.
  auto update = db::prepare(conn,
                            "UPDATE users SET balance_cents = balance_cents + ? WHERE id = ? AND "
                            "balance_cents + ? >= 0");
  update->setInt64(1, amount_cents);
  update->setUInt64(2, user_id);
  update->setInt64(3, amount_cents);
  if (update->executeUpdate() != 1) {
    return false;
  }
  auto entry = db::prepare(conn,
                           "INSERT INTO balance_entries (user_id, amount_cents, kind, reason, admin_id, order_id, "
                           "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  entry->setUInt64(1, user_id);
  entry->setInt64(2, amount_cents);
  entry->setString(3, kind);
  entry->setString(4, reason);
  if (admin_id) {
    entry->setUInt64(5, *admin_id);
  } else {
    entry->setNull(5, 0);
  }
  if (order_id) {
    entry->setUInt64(6, *order_id);
  } else {
    entry->setNull(6, 0);
  }
  entry->setString(7, format_sql_datetime(now));
  entry->executeUpdate();
  return true;
}

}  // namespace derpmgr::controller::commerce
