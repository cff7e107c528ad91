#include "controller/commerce/history_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "controller/db/statements.hpp"

namespace derpmgr::controller::commerce {

std::vector<history_item> history_repository::page(sql::Connection& conn, std::uint64_t user_id,
                                                   const std::optional<history_cursor>& after, int limit) {
  // Allocations are joined through their rental, so they stay in the history after the rental ended and after the
  // account was anonymised; soft-deleted nodes keep their rows, hence their names.
  auto ps = db::prepare(
      conn,
      "SELECT h.type, h.id, h.at, h.rental_id, h.number, h.plan_id, h.source, h.kind, h.amount_cents, h.status, "
      "h.from_status, h.to_status, h.reason, h.node_name, h.region, h.public_host, h.port, h.released_at FROM ("
      "SELECT 'order' AS type, o.id, o.created_at AS at, o.rental_id, o.number, o.plan_id, o.source, o.kind, "
      "o.amount_cents, o.status, NULL AS from_status, NULL AS to_status, NULL AS reason, NULL AS node_name, "
      "NULL AS region, NULL AS public_host, NULL AS port, NULL AS released_at FROM orders o WHERE o.user_id = ? "
      "UNION ALL SELECT 'rental_event', e.id, e.at, e.rental_id, NULL, NULL, NULL, NULL, NULL, NULL, e.from_status, "
      "e.to_status, e.reason, NULL, NULL, NULL, NULL, NULL FROM rental_events e JOIN rentals r ON r.id = e.rental_id "
      "WHERE r.user_id = ? "
      "UNION ALL SELECT 'allocation', a.id, a.created_at, a.rental_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, n.name, n.region, a.public_host, a.port, "
      // Released by us, even while the port waits for the agent's confirmation.
      "COALESCE(a.released_at, IF(a.state = 'released', a.updated_at, NULL)) FROM allocations a "
      "JOIN rentals r ON r.id = a.rental_id JOIN nodes n ON n.id = a.node_id WHERE r.user_id = ?"
      ") h WHERE (? = 0 OR (h.at, h.type, h.id) < (?, ?, ?)) ORDER BY h.at DESC, h.type DESC, h.id DESC LIMIT ?");
  ps->setUInt64(1, user_id);
  ps->setUInt64(2, user_id);
  ps->setUInt64(3, user_id);
  ps->setInt(4, after ? 1 : 0);
  ps->setString(5, after ? format_sql_datetime(after->at) : std::string("1970-01-01 00:00:00"));
  ps->setString(6, after ? after->type : std::string());
  ps->setUInt64(7, after ? after->id : 0);
  ps->setInt(8, limit);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<history_item> out;
  while (rs->next()) {
    history_item h;
    h.type = rs->getString(1);
    h.id = rs->getUInt64(2);
    h.at = parse_sql_datetime(std::string(rs->getString(3)));
    if (!rs->isNull(4)) {
      h.rental_id = rs->getUInt64(4);
    }
    if (h.type == "order") {
      h.number = rs->getString(5);
      h.plan_id = rs->getUInt64(6);
      h.source = rs->getString(7);
      h.kind = rs->getString(8);
      h.amount_cents = rs->getInt64(9);
      h.status = rs->getString(10);
    } else if (h.type == "allocation") {
      h.node_name = rs->getString(14);
      h.region = rs->getString(15);
      h.public_host = rs->getString(16);
      h.port = rs->getInt(17);
      if (!rs->isNull(18)) {
        h.released_at = parse_sql_datetime(std::string(rs->getString(18)));
      }
    } else {
      h.from_status = rs->isNull(11) ? std::string() : std::string(rs->getString(11));
      h.to_status = rs->getString(12);
      h.reason = rs->getString(13);
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace derpmgr::controller::commerce
