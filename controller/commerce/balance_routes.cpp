#include "controller/commerce/balance_routes.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/commerce/plan_repository.hpp"
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

constexpr std::int64_t max_adjustment = 100000000;  // one million in major units

net::awaitable<http::response> adjust(app_services* s, http::request req, auth::principal who) {
  auto user_id = http::id_param(req);
  auto body = http::parse_json_object(req);
  auto amount = http::require_int(body, "amount_cents", -max_adjustment, max_adjustment);
  if (amount == 0) {
    throw api_error(400, "invalid_field", "amount_cents must not be 0", "amount_cents");
  }
  auto reason = http::require_string(body, "reason", 255);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "balance.adjusted", "user:" + std::to_string(user_id));
  event.details = json::object{{"amount_cents", amount}, {"reason", reason}};
  auto admin_id = who.id;
  auto unit = [s, user_id, amount, reason, now, event, admin_id](sql::Connection& conn) {
    auto exists = db::prepare(conn, "SELECT status FROM users WHERE id = ? FOR UPDATE");
    exists->setUInt64(1, user_id);
    std::unique_ptr<sql::ResultSet> rs(exists->executeQuery());
    if (!rs->next() || std::string(rs->getString(1)) == "deleted") {
      throw api_error(404, "not_found", "no such user");
    }
    if (!move_balance(conn, user_id, amount, amount > 0 ? "topup" : "adjustment", reason, admin_id, std::nullopt,
                      now)) {
      throw api_error(409, "insufficient_balance", "the balance cannot go below zero", "amount_cents");
    }
    s->audit(conn, event);
    auto read = db::prepare(conn, "SELECT balance_cents FROM users WHERE id = ?");
    read->setUInt64(1, user_id);
    std::unique_ptr<sql::ResultSet> balance(read->executeQuery());
    balance->next();
    return balance->getInt64(1);
  };
  auto balance = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(json::object{{"user_id", user_id}, {"balance_cents", balance}}));
}

net::awaitable<http::response> ledger(app_services* s, http::request req, auth::principal) {
  auto user_id = http::id_param(req);
  auto unit = [user_id](sql::Connection& conn) {
    auto head = db::prepare(conn, "SELECT balance_cents FROM users WHERE id = ?");
    head->setUInt64(1, user_id);
    std::unique_ptr<sql::ResultSet> rs(head->executeQuery());
    if (!rs->next()) {
      throw api_error(404, "not_found", "no such user");
    }
    json::object out{{"user_id", user_id}, {"balance_cents", rs->getInt64(1)}};
    auto list = db::prepare(conn,
                            "SELECT id, amount_cents, kind, reason, admin_id, order_id, created_at FROM "
                            "balance_entries WHERE user_id = ? ORDER BY id DESC LIMIT 200");
    list->setUInt64(1, user_id);
    std::unique_ptr<sql::ResultSet> entries(list->executeQuery());
    json::array items;
    while (entries->next()) {
      items.emplace_back(json::object{
          {"id", entries->getUInt64(1)},
          {"amount_cents", entries->getInt64(2)},
          {"kind", std::string(entries->getString(3))},
          {"reason", std::string(entries->getString(4))},
          {"admin_id", entries->isNull(5) ? json::value(nullptr) : json::value(entries->getUInt64(5))},
          {"order_id", entries->isNull(6) ? json::value(nullptr) : json::value(entries->getUInt64(6))},
          {"created_at", format_rfc3339(parse_sql_datetime(std::string(entries->getString(7))))}});
    }
    out["items"] = std::move(items);
    return json::serialize(out);
  };
  co_return http::response::json(200, co_await s->pool.run(std::move(unit)));
}

net::awaitable<http::response> renew_from_balance(app_services* s, http::request req, auth::principal who) {
  auto body = http::parse_json_object(req);
  auto plan_id = static_cast<std::uint64_t>(http::require_int(body, "plan_id", 1, INT64_MAX));
  auto now = s->clk.now();
  auto user_id = who.id;
  auto event = auth::audit_for(req, "customer", user_id, "rental.purchased", "user:" + std::to_string(user_id));
  auto unit = [s, plan_id, now, user_id, event](sql::Connection& conn) mutable {
    auto plan = plan_repository::by_id(conn, plan_id);
    if (!plan || !plan->terms.active) {
      throw api_error(400, "invalid_field", "no such plan on sale", "plan_id");
    }
    auto bought = apply_purchase(conn, user_id, *plan, "balance", std::nullopt, plan->terms.price_cents, now);
    if (!move_balance(conn, user_id, -plan->terms.price_cents, "purchase", plan->terms.name, std::nullopt,
                      bought.order_id, now)) {
      throw api_error(402, "insufficient_balance", "your balance does not cover this plan", "plan_id");
    }
    event.details = json::object{{"plan_id", plan_id}, {"order", bought.order_number}, {"kind", bought.kind}};
    s->audit(conn, event);
    return bought;
  };
  auto bought = co_await s->pool.transact(std::move(unit));
  s->wake_placement();  // a new rental, or one renewed after it expired, needs its servers
  co_return http::response::json(200, json::serialize(json::object{{"order", bought.order_number},
                                                                   {"kind", bought.kind},
                                                                   {"rental_id", bought.rental_id},
                                                                   {"expires_at", format_rfc3339(bought.expires_at)}}));
}

}  // namespace

void add_balance_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/users/{id}/balance", "finance:write", adjust);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/users/{id}/balance", "finance:read", ledger);
  auth::add_customer_route(routes, services, "POST", "/api/v1/me/renew", "rental:write", true, renew_from_balance);
}

}  // namespace derpmgr::controller::commerce
