#include "controller/rentals/rental_admin_routes.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "controller/app/app_services.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/commerce/serial_repository.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/statements.hpp"
#include "controller/fleet/allocation_repository.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller::rentals {

namespace json = boost::json;
using http::api_error;
using results = std::unique_ptr<sql::ResultSet>;

namespace {

constexpr const char* columns =
    "r.id, r.user_id, r.plan_name, r.status, r.degraded, r.replicas, r.starts_at, r.expires_at, "
    "r.traffic_quota_bytes, r.traffic_used_bytes, (SELECT COUNT(*) FROM allocations a WHERE a.rental_id = r.id AND "
    "a.released_at IS NULL AND a.state = 'running')";

json::object rental_json(sql::ResultSet& rs) {
  return json::object{{"id", rs.getUInt64(1)},
                      {"user_id", rs.getUInt64(2)},
                      {"plan", std::string(rs.getString(3))},
                      {"status", std::string(rs.getString(4))},
                      {"degraded", rs.getBoolean(5)},
                      {"replicas", rs.getInt64(6)},
                      {"starts_at", format_rfc3339(parse_sql_datetime(std::string(rs.getString(7))))},
                      {"expires_at", format_rfc3339(parse_sql_datetime(std::string(rs.getString(8))))},
                      {"traffic_quota_bytes", rs.getUInt64(9)},
                      {"traffic_used_bytes", rs.getUInt64(10)},
                      {"servers_running", rs.getInt64(11)}};
}

json::object load_json(sql::Connection& conn, std::uint64_t id) {
  auto ps = db::prepare(conn, std::string("SELECT ") + columns + " FROM rentals r WHERE r.id = ?");
  ps->setUInt64(1, id);
  results rs(ps->executeQuery());
  rs->next();
  return rental_json(*rs);
}

std::string status_for_update(sql::Connection& conn, std::uint64_t id) {
  auto ps = db::prepare(conn, "SELECT status FROM rentals WHERE id = ? FOR UPDATE");
  ps->setUInt64(1, id);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    throw api_error(404, "not_found", "no such rental");
  }
  return rs->getString(1);
}

void set_status(sql::Connection& conn, std::uint64_t id, const std::string& status, time_point now) {
  auto ps = db::prepare(conn, "UPDATE rentals SET status = ?, updated_at = ? WHERE id = ?");
  ps->setString(1, status);
  ps->setString(2, format_sql_datetime(now));
  ps->setUInt64(3, id);
  ps->executeUpdate();
}

net::awaitable<http::response> list_rentals(app_services* s, http::request req, auth::principal) {
  auto query = http::parse_query(req.query);
  auto limit = http::limit_param(query, 50, 500);
  auto user = http::int_param(query, "user_id", 1, INT64_MAX);
  auto node = http::int_param(query, "node_id", 1, INT64_MAX);
  auto cursor = http::int_param(query, "cursor", 1, INT64_MAX);
  std::string status = query.contains("status") ? query.at("status") : "";
  static const std::set<std::string> statuses{"pending", "active", "limited", "suspended", "expired", "cancelled"};
  if (!status.empty() && !statuses.contains(status)) {
    throw api_error(400, "invalid_field",
                    "status must be one of pending, active, limited, suspended, expired, cancelled", "status");
  }
  auto unit = [=](sql::Connection& conn) {
    std::string sql = std::string("SELECT ") + columns + " FROM rentals r WHERE r.id < ?";
    if (user) {
      sql += " AND r.user_id = ?";
    }
    if (!status.empty()) {
      sql += " AND r.status = ?";
    }
    if (node) {
      sql +=
          " AND EXISTS (SELECT 1 FROM allocations a WHERE a.rental_id = r.id AND a.node_id = ? AND "
          "a.released_at IS NULL)";
    }
    sql += " ORDER BY r.id DESC LIMIT ?";
    auto ps = db::prepare(conn, sql);
    int i = 1;
    ps->setInt64(i++, cursor.value_or(INT64_MAX));
    if (user) {
      ps->setInt64(i++, *user);
    }
    if (!status.empty()) {
      ps->setString(i++, status);
    }
    if (node) {
      ps->setInt64(i++, *node);
    }
    ps->setInt(i, limit + 1);
    results rs(ps->executeQuery());
    json::array items;
    while (rs->next()) {
      items.push_back(rental_json(*rs));
    }
    return items;
  };
  auto items = co_await s->pool.run(std::move(unit));
  json::value next = nullptr;
  if (static_cast<int>(items.size()) > limit) {
    items.pop_back();
    next = std::to_string(items.back().as_object().at("id").as_uint64());
  }
  co_return http::response::json(200,
                                 json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", next}}));
}

std::string reason_of(const json::object& body) {
  return http::require_string(body, "reason", 255);
}

// One state change: allowed `from` states, the new state, what happens to the servers.
net::awaitable<http::response> change(app_services* s, http::request req, auth::principal who, std::string action) {
  auto id = http::id_param(req);
  auto body = http::parse_json_object(req);
  auto reason = reason_of(body);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "rental." + action, "rental:" + std::to_string(id));
  event.details = json::object{{"reason", reason}};
  auto unit = [s, id, action, reason, now, event](sql::Connection& conn) {
    auto from = status_for_update(conn, id);
    std::string to;
    if (action == "suspend") {
      if (from != "active" && from != "limited" && from != "pending") {
        throw api_error(409, "invalid_state", "only a pending, active or limited rental can be suspended");
      }
      to = "suspended";
      fleet::allocation_repository::set_rental_state(conn, id, "running", "stopped", now);
    } else if (action == "resume") {
      if (from != "suspended") {
        throw api_error(409, "invalid_state", "only a suspended rental can be resumed");
      }
      to = "active";
      fleet::allocation_repository::set_rental_state(conn, id, "stopped", "running", now);
    } else {
      if (from == "cancelled") {
        throw api_error(409, "invalid_state", "the rental is already cancelled");
      }
      to = "cancelled";
      fleet::allocation_repository::set_rental_state(conn, id, "running", "reserved", now);
      fleet::allocation_repository::set_rental_state(conn, id, "stopped", "reserved", now);
    }
    set_status(conn, id, to, now);
    commerce::serial_repository::rental_event(conn, id, from, to, (action + " by an admin: " + reason).substr(0, 255),
                                              now);
    s->audit(conn, event);
    return load_json(conn, id);
  };
  auto view = co_await s->pool.transact(std::move(unit));
  s->wake_fleet();
  if (action == "resume") {
    s->wake_placement();  // a rental suspended before it had servers gets them now
  }
  co_return http::response::json(200, json::serialize(view));
}

net::awaitable<http::response> suspend(app_services* s, http::request req, auth::principal who) {
  std::string action = "suspend";
  auto answer = co_await change(s, std::move(req), who, action);
  co_return answer;
}
net::awaitable<http::response> resume(app_services* s, http::request req, auth::principal who) {
  std::string action = "resume";
  auto answer = co_await change(s, std::move(req), who, action);
  co_return answer;
}
net::awaitable<http::response> cancel(app_services* s, http::request req, auth::principal who) {
  std::string action = "cancel";
  auto answer = co_await change(s, std::move(req), who, action);
  co_return answer;
}

// Adds days to live rentals: one (id) or every rental with a server on a node (node_id).
net::awaitable<http::response> extend(app_services* s, http::request req, auth::principal who) {
  auto body = http::parse_json_object(req);
  auto days = http::require_int(body, "days", 1, 3650);
  auto reason = reason_of(body);
  bool by_node = req.path_params.contains("node");
  auto id = by_node ? http::id_param(req, "node") : http::id_param(req);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, by_node ? "node.rentals_extended" : "rental.extended",
                               (by_node ? "node:" : "rental:") + std::to_string(id));
  event.details = json::object{{"days", days}, {"reason", reason}};
  auto unit = [s, id, by_node, days, reason, now, event](sql::Connection& conn) mutable {
    auto ps =
        db::prepare(conn, by_node ? "SELECT DISTINCT r.id FROM rentals r JOIN allocations a ON a.rental_id = r.id "
                                    "WHERE a.node_id = ? AND a.released_at IS NULL AND r.status IN ('pending', "
                                    "'active', 'limited', 'suspended') FOR UPDATE"
                                  : "SELECT id FROM rentals WHERE id = ? AND status IN ('pending', 'active', "
                                    "'limited', 'suspended') FOR UPDATE");
    ps->setUInt64(1, id);
    results rs(ps->executeQuery());
    std::vector<std::uint64_t> ids;
    while (rs->next()) {
      ids.push_back(rs->getUInt64(1));
    }
    if (!by_node && ids.empty()) {
      throw api_error(404, "not_found", "no live rental with this id");
    }
    auto up = db::prepare(conn,
                          "UPDATE rentals SET expires_at = DATE_ADD(expires_at, INTERVAL ? DAY), updated_at = ? "
                          "WHERE id = ?");
    for (auto r : ids) {
      up->setInt64(1, days);
      up->setString(2, format_sql_datetime(now));
      up->setUInt64(3, r);
      up->executeUpdate();
      auto st = status_for_update(conn, r);
      commerce::serial_repository::rental_event(conn, r, st, st,
                                                ("+" + std::to_string(days) + " days: " + reason).substr(0, 255), now);
    }
    event.details["rentals"] = ids.size();
    s->audit(conn, event);
    return ids.size();
  };
  auto count = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(json::object{{"extended", count}, {"days", days}}));
}

}  // namespace

void add_rental_admin_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/rentals", "rentals:read", list_rentals);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/rentals/{id}/suspend", "rentals:write", suspend);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/rentals/{id}/resume", "rentals:write", resume);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/rentals/{id}/cancel", "rentals:write", cancel);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/rentals/{id}/extend", "rentals:write", extend);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/nodes/{node}/extend-rentals", "rentals:write", extend);
}

}  // namespace derpmgr::controller::rentals
