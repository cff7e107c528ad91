#include "controller/commerce/plan_routes.hpp"

#include <cppconn/connection.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "controller/app/controller_config.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/commerce/plan_repository.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::commerce {

namespace json = boost::json;
using http::api_error;

namespace {

bool valid_region(const std::string& r) {
  if (r.empty() || r.size() > 32) {
    return false;
  }
  for (unsigned char c : r) {
    if (!(std::islower(c) || std::isdigit(c) || c == '-')) {
      return false;
    }
  }
  return true;
}

plan_terms terms_from(const json::object& body) {
  plan_terms t;
  t.name = http::require_string(body, "name", 100);
  t.duration_days = http::require_int(body, "duration_days", 1, 3650);
  t.traffic_quota_bytes = static_cast<std::uint64_t>(
      http::require_int(body, "traffic_quota_bytes", 0, std::int64_t{1} << 60));
  t.device_limit = http::require_int(body, "device_limit", 1, 10000);
  if (auto it = body.find("bandwidth_mbps"); it != body.end() && !it->value().is_null()) {
    t.bandwidth_mbps = http::require_int(body, "bandwidth_mbps", 1, 100000);
  }
  t.price_cents = http::require_int(body, "price_cents", 0, 1000000000);
  if (body.contains("replicas")) {
    t.replicas = http::require_int(body, "replicas", 1, 10);
  }
  if (auto it = body.find("regions"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_array()) {
      throw api_error(400, "invalid_field", "regions must be a list of region codes", "regions");
    }
    for (const auto& v : it->value().as_array()) {
      if (!v.is_string() || !valid_region(std::string(v.as_string()))) {
        throw api_error(400, "invalid_field", "regions must be codes of a-z, 0-9 and -", "regions");
      }
      t.regions.emplace_back(v.as_string());
    }
  }
  if (auto it = body.find("active"); it != body.end()) {
    if (!it->value().is_bool()) {
      throw api_error(400, "invalid_field", "active must be true or false", "active");
    }
    t.active = it->value().as_bool();
  }
  return t;
}

json::object plan_json(const plan_row& p, const std::string& currency) {
  return json::object{
      {"id", p.id},
      {"name", p.terms.name},
      {"duration_days", p.terms.duration_days},
      {"traffic_quota_bytes", p.terms.traffic_quota_bytes},
      {"device_limit", p.terms.device_limit},
      {"bandwidth_mbps", p.terms.bandwidth_mbps ? json::value(*p.terms.bandwidth_mbps) : json::value(nullptr)},
      {"price_cents", p.terms.price_cents},
      {"currency", currency},
      {"replicas", p.terms.replicas},
      {"regions", json::value_from(p.terms.regions)},
      {"active", p.terms.active},
      {"created_at", format_rfc3339(p.created_at)},
      {"updated_at", format_rfc3339(p.updated_at)}};
}

http::response plans_response(const std::vector<plan_row>& plans, const std::string& currency) {
  json::array items;
  for (const auto& p : plans) {
    items.emplace_back(plan_json(p, currency));
  }
  return http::response::json(200, json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}}));
}

net::awaitable<http::response> list_plans(app_services* s, http::request, auth::principal) {
  auto unit = [](sql::Connection& conn) { return plan_repository::list(conn, false); };
  auto plans = co_await s->pool.run(std::move(unit));
  co_return plans_response(plans, s->config.business_currency);
}

net::awaitable<http::response> show_plan(app_services* s, http::request req, auth::principal) {
  auto id = http::id_param(req);
  auto unit = [id](sql::Connection& conn) { return plan_repository::by_id(conn, id); };
  auto plan = co_await s->pool.run(std::move(unit));
  if (!plan) {
    throw api_error(404, "not_found", "no such plan");
  }
  co_return http::response::json(200, json::serialize(plan_json(*plan, s->config.business_currency)));
}

net::awaitable<http::response> create_plan(app_services* s, http::request req, auth::principal who) {
  auto terms = terms_from(http::parse_json_object(req));
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "plan.created", "");
  auto unit = [s, terms, now, event](sql::Connection& conn) mutable {
    auto id = plan_repository::insert(conn, terms, now);
    if (!id) {
      throw api_error(409, "name_taken", "a plan with this name exists", "name");
    }
    event.target = "plan:" + std::to_string(*id);
    event.details = json::object{{"name", terms.name}, {"price_cents", terms.price_cents},
                                 {"duration_days", terms.duration_days}};
    s->audit(conn, event);
    return *plan_repository::by_id(conn, *id);
  };
  auto plan = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(201, json::serialize(plan_json(plan, s->config.business_currency)));
}

net::awaitable<http::response> update_plan(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto terms = terms_from(http::parse_json_object(req));
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "plan.updated", "plan:" + std::to_string(id));
  event.details = json::object{{"name", terms.name}, {"price_cents", terms.price_cents},
                               {"duration_days", terms.duration_days}, {"active", terms.active}};
  auto unit = [s, id, terms, now, event](sql::Connection& conn) {
    bool clash = false;
    if (!plan_repository::update(conn, id, terms, now, clash)) {
      throw api_error(404, "not_found", "no such plan");
    }
    if (clash) {
      throw api_error(409, "name_taken", "a plan with this name exists", "name");
    }
    s->audit(conn, event);
    return *plan_repository::by_id(conn, id);
  };
  auto plan = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(plan_json(plan, s->config.business_currency)));
}

net::awaitable<http::response> public_plans(app_services* s) {
  auto unit = [](sql::Connection& conn) { return plan_repository::list(conn, true); };
  auto plans = co_await s->pool.run(std::move(unit));
  co_return plans_response(plans, s->config.business_currency);
}

}  // namespace

void add_plan_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/plans", "plans:read", list_plans);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/plans/{id}", "plans:read", show_plan);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/plans", "plans:write", create_plan);
  auth::add_admin_route(routes, services, "PUT", "/api/v1/admin/plans/{id}", "plans:write", update_plan);
  auto* s = &services;
  routes.add("GET", "/api/v1/plans", [s](http::request&) { return public_plans(s); });
}

}  // namespace derpmgr::controller::commerce
