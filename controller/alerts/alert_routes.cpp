#include "controller/alerts/alert_routes.hpp"

#include <cppconn/connection.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "controller/alerts/alert_repository.hpp"
#include "controller/app/app_services.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller::alerts {

namespace json = boost::json;
using http::api_error;

namespace {

json::value optional_time(const std::optional<time_point>& t) {
  return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}

json::object alert_json(const alert_row& a) {
  return json::object{{"id", a.id},
                      {"kind", a.key.kind},
                      {"severity", a.severity},
                      {"subject_type", a.key.subject_type},
                      {"subject_id", a.key.subject_id},
                      {"message", a.message},
                      {"open", !a.resolved_at.has_value()},
                      {"raised_at", format_rfc3339(a.raised_at)},
                      {"resolved_at", optional_time(a.resolved_at)},
                      {"acknowledged_at", optional_time(a.acknowledged_at)},
                      {"acknowledged_by", a.acknowledged_by ? json::value(*a.acknowledged_by) : json::value(nullptr)}};
}

net::awaitable<http::response> list_alerts(app_services* s, http::request req, auth::principal) {
  auto query = http::parse_query(req.query);
  alert_filter filter;
  filter.limit = http::limit_param(query, 50, 500) + 1;  // one more tells whether a next page exists
  if (auto cursor = http::int_param(query, "cursor", 1, INT64_MAX)) {
    filter.before_id = static_cast<std::uint64_t>(*cursor);
  }
  if (auto it = query.find("open"); it != query.end() && !it->second.empty()) {
    if (it->second != "true" && it->second != "false") {
      throw api_error(400, "invalid_field", "open must be true or false", "open");
    }
    filter.open = it->second == "true";
  }
  static const std::set<std::string> kinds{"node_offline", "rental_degraded"};
  if (auto it = query.find("kind"); it != query.end() && !it->second.empty()) {
    if (!kinds.contains(it->second)) {
      throw api_error(400, "invalid_field", "kind must be node_offline or rental_degraded", "kind");
    }
    filter.kind = it->second;
  }
  auto unit = [filter](sql::Connection& conn) { return alert_repository::list(conn, filter); };
  auto rows = co_await s->pool.run(std::move(unit));
  json::value next = nullptr;
  if (static_cast<int>(rows.size()) >= filter.limit) {
    rows.pop_back();
    next = std::to_string(rows.back().id);
  }
  json::array items;
  for (const auto& a : rows) {
    items.emplace_back(alert_json(a));
  }
  co_return http::response::json(200,
                                 json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", next}}));
}

net::awaitable<http::response> acknowledge_alert(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "alert.acknowledged", "alert:" + std::to_string(id));
  auto unit = [s, id, now, event, admin = who.id](sql::Connection& conn) mutable {
    auto alert = alert_repository::by_id(conn, id, true);
    if (!alert) {
      throw api_error(404, "not_found", "no such alert");
    }
    if (!alert_repository::acknowledge(conn, id, admin, now)) {
      throw api_error(409, "already_acknowledged", "the alert was acknowledged already");
    }
    event.details = json::object{{"kind", alert->key.kind},
                                 {"subject", alert->key.subject_type + ":" + std::to_string(alert->key.subject_id)}};
    s->audit(conn, event);
    return *alert_repository::by_id(conn, id);
  };
  auto alert = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(alert_json(alert)));
}

}  // namespace

void add_alert_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/alerts", "nodes:read", list_alerts);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/alerts/{id}/acknowledge", "nodes:write",
                        acknowledge_alert);
}

}  // namespace derpmgr::controller::alerts
