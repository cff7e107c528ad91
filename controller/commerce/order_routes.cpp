#include "controller/commerce/order_routes.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/app/controller_config.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/commerce/business_calendar.hpp"
#include "controller/commerce/csv_writer.hpp"
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

// One order as lists and exports show it.
struct order_line {
  std::uint64_t id = 0;
  std::string number;
  std::uint64_t user_id = 0;
  std::string user_email;  // "" once the account is deleted
  std::uint64_t plan_id = 0;
  std::string plan_name;
  std::optional<std::uint64_t> rental_id;
  std::string source;
  std::string kind;
  std::int64_t amount_cents = 0;
  std::string status;
  time_point created_at{};
};

// Newest first, at most `limit` rows from the cursor on.
std::vector<order_line> select_orders(sql::Connection& conn, const order_query& q, int limit) {
  auto ps = db::prepare(conn,
                        "SELECT o.id, o.number, o.user_id, COALESCE(u.email, ''), o.plan_id, COALESCE(p.name, ''), "
                        "o.rental_id, o.source, o.kind, o.amount_cents, o.status, o.created_at FROM orders o "
                        "LEFT JOIN users u ON u.id = o.user_id LEFT JOIN plans p ON p.id = o.plan_id "
                        "WHERE (? = '' OR o.status = ?) AND (? = '' OR o.source = ?) AND "
                        "(? = 0 OR o.user_id = ?) AND o.id < ? ORDER BY o.id DESC LIMIT ?");
  ps->setString(1, q.status);
  ps->setString(2, q.status);
  ps->setString(3, q.source);
  ps->setString(4, q.source);
  ps->setUInt64(5, q.user_id);
  ps->setUInt64(6, q.user_id);
  ps->setUInt64(7, q.before_id);
  ps->setInt(8, limit);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<order_line> out;
  while (rs->next()) {
    order_line o;
    o.id = rs->getUInt64(1);
    o.number = rs->getString(2);
    o.user_id = rs->getUInt64(3);
    o.user_email = rs->getString(4);
    o.plan_id = rs->getUInt64(5);
    o.plan_name = rs->getString(6);
    if (!rs->isNull(7)) {
      o.rental_id = rs->getUInt64(7);
    }
    o.source = rs->getString(8);
    o.kind = rs->getString(9);
    o.amount_cents = rs->getInt64(10);
    o.status = rs->getString(11);
    o.created_at = parse_sql_datetime(std::string(rs->getString(12)));
    out.push_back(std::move(o));
  }
  return out;
}

json::object list_orders(sql::Connection& conn, const order_query& q) {
  auto rows = select_orders(conn, q, q.limit + 1);
  bool more = static_cast<int>(rows.size()) > q.limit;
  if (more) {
    rows.pop_back();
  }
  json::array items;
  for (const auto& o : rows) {
    items.emplace_back(json::object{{"id", o.id},
                                    {"number", o.number},
                                    {"user_id", o.user_id},
                                    {"plan_id", o.plan_id},
                                    {"plan_name", o.plan_name},
                                    {"rental_id", o.rental_id ? json::value(*o.rental_id) : json::value(nullptr)},
                                    {"source", o.source},
                                    {"kind", o.kind},
                                    {"amount_cents", o.amount_cents},
                                    {"status", o.status},
                                    {"created_at", format_rfc3339(o.created_at)}});
  }
  return json::object{{"items", std::move(items)},
                      {"next_cursor", more ? json::value(std::to_string(rows.back().id)) : json::value(nullptr)}};
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

constexpr int max_export_rows = 100000;

// The admin order list as a CSV download (every matching order, no paging), times in UTC and in the business time
// zone; finance:read, like the rest of the money figures.
net::awaitable<http::response> export_orders(app_services* s, http::request req, auth::principal) {
  auto query = http::parse_query(req.query);
  auto format = query["format"].empty() ? std::string("csv") : query["format"];
  if (format != "csv") {
    throw api_error(400, "invalid_field", "format must be csv", "format");
  }
  auto q = parse(req);
  auto unit = [q](sql::Connection& conn) { return select_orders(conn, q, max_export_rows + 1); };
  auto rows = co_await s->pool.run(std::move(unit));
  if (rows.size() > static_cast<std::size_t>(max_export_rows)) {
    throw api_error(422, "export_too_large",
                    "more than " + std::to_string(max_export_rows) + " orders match; narrow the filters");
  }
  business_calendar calendar(s->config.business_time_zone);
  csv_writer csv({"id", "number", "created_at", "created_at_local", "user_id", "user_email", "plan_id", "plan_name",
                  "source", "kind", "amount_cents", "currency", "status"});
  for (const auto& o : rows) {
    csv.row({std::to_string(o.id), o.number, format_rfc3339(o.created_at), calendar.format_local(o.created_at),
             std::to_string(o.user_id), o.user_email, std::to_string(o.plan_id), o.plan_name, o.source, o.kind,
             std::to_string(o.amount_cents), s->config.business_currency, o.status});
  }
  co_return csv_download("orders.csv", csv.text());
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
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/orders/export", "finance:read", export_orders);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/orders/{id}/cancel", "orders:write", cancel);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/orders/{id}/refund", "orders:write", refund);
  auth::add_customer_route(routes, services, "GET", "/api/v1/me/orders", "account:read", false, my_orders);
}

}  // namespace derpmgr::controller::commerce
