#include "controller/commerce/order_routes.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/commerce/purchase.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/statements.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::commerce {

namespace json = boost::json;
using http::api_error;

namespace {

struct order_query {
  std::string status;
  std::string source;
  std::uint64_t user_id = 0;  // 0: any
  std::uint64_t before_id = UINT64_MAX;
  int limit = 50;
};

json::object list_orders(sql::Connection& conn, const order_query& q) {
  auto ps = db::prepare(conn,
                        "SELECT id, number, user_id, plan_id, rental_id, source, kind, amount_cents, status, "
                        "created_at FROM orders WHERE (? = '' OR status = ?) AND (? = '' OR source = ?) AND "
                        "(? = 0 OR user_id = ?) AND id < ? ORDER BY id DESC LIMIT ?");
  ps->setString(1, q.status);
  ps->setString(2, q.status);
  ps->setString(3, q.source);
  ps->setString(4, q.source);
  ps->setUInt64(5, q.user_id);
  ps->setUInt64(6, q.user_id);
  ps->setUInt64(7, q.before_id);
  ps->setInt(8, q.limit + 1);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  json::array items;
  std::uint64_t last = 0;
  while (rs->next()) {
    if (static_cast<int>(items.size()) == q.limit) {
      break;
    }
    last = rs->getUInt64(1);
    items.emplace_back(json::object{{"id", last},
                                    {"number", std::string(rs->getString(2))},
                                    {"user_id", rs->getUInt64(3)},
                                    {"plan_id", rs->getUInt64(4)},
                                    {"rental_id", rs->isNull(5) ? json::value(nullptr) : json::value(rs->getUInt64(5))},
                                    {"source", std::string(rs->getString(6))},
                                    {"kind", std::string(rs->getString(7))},
                                    {"amount_cents", rs->getInt64(8)},
                                    {"status", std::string(rs->getString(9))},
                                    {"created_at", format_rfc3339(parse_sql_datetime(std::string(rs->getString(10))))}});
  }
  bool more = static_cast<int>(items.size()) == q.limit && !rs->isAfterLast();
  return json::object{{"items", std::move(items)},
                      {"next_cursor", more ? json::value(std::to_string(last)) : json::value(nullptr)}};
}

order_query parse(const http::request& req) {
  auto q = http::parse_query(req.query);
  order_query out;
  out.limit = http::limit_param(q, 50, 500);
  out.status = q["status"];
  out.source = q["source"];
  out.user_id = static_cast<std::uint64_t>(http::int_param(q, "user_id", 1, INT64_MAX).value_or(0));
  if (auto cursor = http::int_param(q, "cursor", 1, INT64_MAX)) {
    out.before_id = static_cast<std::uint64_t>(*cursor);
  }
  return out;
}

net::awaitable<http::response> admin_orders(app_services* s, http::request req, auth::principal) {
  auto q = parse(req);
  auto unit = [q](sql::Connection& conn) { return json::serialize(list_orders(conn, q)); };
  co_return http::response::json(200, co_await s->pool.run(std::move(unit)));
}

net::awaitable<http::response> my_orders(app_services* s, http::request req, auth::principal who) {
  auto q = parse(req);
  q.user_id = who.id;
  auto unit = [q](sql::Connection& conn) { return json::serialize(list_orders(conn, q)); };
  co_return http::response::json(200, co_await s->pool.run(std::move(unit)));
}

// Cancel or refund: takes back what the order added to the rental (never before now) and returns balance-paid
// money to the balance, in one transaction.
net::awaitable<http::response> reverse(app_services* s, http::request req, auth::principal who,
                                       std::string new_status) {
  auto id = http::id_param(req);
  auto body = http::parse_json_object(req);
  auto reason = http::require_string(body, "reason", 255);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "order." + new_status, "order:" + std::to_string(id));
  event.details = json::object{{"reason", reason}};
  auto admin_id = who.id;
  auto unit = [s, id, reason, now, event, admin_id, new_status](sql::Connection& conn) {
    auto ps = db::prepare(conn,
                          "SELECT user_id, rental_id, source, amount_cents, status, added_days, added_quota_bytes "
                          "FROM orders WHERE id = ? FOR UPDATE");
    ps->setUInt64(1, id);
    std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
    if (!rs->next()) {
      throw api_error(404, "not_found", "no such order");
    }
    auto user_id = rs->getUInt64(1);
    auto rental_id = rs->isNull(2) ? 0 : rs->getUInt64(2);
    std::string source = rs->getString(3);
    auto amount = rs->getInt64(4);
    if (std::string(rs->getString(5)) != "completed") {
      throw api_error(409, "order_not_completed", "only completed orders can be " + new_status);
    }
    auto days = rs->getInt64(6);
    auto quota = rs->getUInt64(7);
    if (rental_id != 0) {
      // Never earlier than now; the quota shrinks by what the order added, never below zero.
      auto shorten = db::prepare(conn,
                                 "UPDATE rentals SET expires_at = GREATEST(?, DATE_SUB(expires_at, INTERVAL ? DAY)), "
                                 "traffic_quota_bytes = IF(traffic_quota_bytes > ?, traffic_quota_bytes - ?, 0), "
                                 "updated_at = ? WHERE id = ?");
      shorten->setString(1, format_sql_datetime(now));
      shorten->setInt64(2, days);
      shorten->setUInt64(3, quota);
      shorten->setUInt64(4, quota);
      shorten->setString(5, format_sql_datetime(now));
      shorten->setUInt64(6, rental_id);
      shorten->executeUpdate();
    }
    if (source == "balance" && amount > 0) {
      move_balance(conn, user_id, amount, "refund", "order " + new_status + ": " + reason, admin_id, id, now);
    }
    auto mark = db::prepare(conn, "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?");
    mark->setString(1, new_status);
    mark->setString(2, format_sql_datetime(now));
    mark->setUInt64(3, id);
    mark->executeUpdate();
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(json::object{{"id", id}, {"status", new_status}}));
}

net::awaitable<http::response> cancel(app_services* s, http::request req, auth::principal who) {
  return reverse(s, std::move(req), std::move(who), "cancelled");
}

net::awaitable<http::response> refund(app_services* s, http::request req, auth::principal who) {
  return reverse(s, std::move(req), std::move(who), "refunded");
}

}  // namespace

void add_order_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/orders", "orders:read", admin_orders);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/orders/{id}/cancel", "orders:write", cancel);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/orders/{id}/refund", "orders:write", refund);
  auth::add_customer_route(routes, services, "GET", "/api/v1/me/orders", "account:read", false, my_orders);
}

}  // namespace derpmgr::controller::commerce
