#include "controller/rentals/rental_routes.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <optional>

#include "controller/app/app_services.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/statements.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller::rentals {

namespace json = boost::json;
using http::api_error;

namespace {

struct server_view {
  std::string region;
  std::string host;
  int port = 0;
  std::string state;     // allocation state
  std::string observed;  // what the agent last reported
  std::string error;
  bool node_online = false;
};

struct rental_view {
  std::uint64_t id = 0;
  std::string plan_name;
  std::string status;
  bool degraded = false;
  std::int64_t replicas = 0;
  time_point starts_at{};
  time_point expires_at{};
  std::uint64_t quota = 0;
  std::uint64_t used = 0;
  std::vector<server_view> servers;
};

std::optional<rental_view> load(sql::Connection& conn, std::uint64_t user_id, time_point now) {
  auto ps = db::prepare(conn,
                        "SELECT id, plan_name, status, degraded, replicas, starts_at, expires_at, "
                        "traffic_quota_bytes, traffic_used_bytes FROM rentals WHERE user_id = ? ORDER BY id DESC "
                        "LIMIT 1");
  ps->setUInt64(1, user_id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  rental_view r;
  r.id = rs->getUInt64(1);
  r.plan_name = rs->getString(2);
  r.status = rs->getString(3);
  r.degraded = rs->getBoolean(4);
  r.replicas = rs->getInt64(5);
  r.starts_at = parse_sql_datetime(std::string(rs->getString(6)));
  r.expires_at = parse_sql_datetime(std::string(rs->getString(7)));
  r.quota = rs->getUInt64(8);
  r.used = rs->getUInt64(9);
  auto servers = db::prepare(conn,
                             "SELECT n.region, a.public_host, a.port, a.state, COALESCE(a.observed_state, ''), "
                             "COALESCE(a.observed_error, ''), n.session_replica IS NOT NULL AND n.last_seen_at >= ? "
                             "FROM allocations a JOIN nodes n ON n.id = a.node_id WHERE a.rental_id = ? AND "
                             "a.released_at IS NULL AND a.state <> 'released' ORDER BY a.id");
  servers->setString(1, format_sql_datetime(now - std::chrono::seconds(45)));
  servers->setUInt64(2, r.id);
  std::unique_ptr<sql::ResultSet> srs(servers->executeQuery());
  while (srs->next()) {
    r.servers.push_back({srs->getString(1), srs->getString(2), srs->getInt(3), srs->getString(4), srs->getString(5),
                         srs->getString(6), srs->getBoolean(7)});
  }
  return r;
}

// What the customer sees for one server: running, starting, offline, reserved (lapsed, kept for renewal), error.
std::string live_status(const server_view& s) {
  if (s.state != "running") {
    return s.state;
  }
  if (!s.node_online) {
    return "offline";
  }
  if (s.observed == "error") {
    return "error";
  }
  return s.observed == "running" ? "running" : "starting";
}

net::awaitable<http::response> my_rental(app_services* s, http::request, auth::principal who) {
  auto now = s->clk.now();
  auto user = who.id;
  auto unit = [user, now](sql::Connection& conn) { return load(conn, user, now); };
  auto rental = co_await s->pool.run(std::move(unit));
  if (!rental) {
    throw api_error(404, "no_rental", "you have no rental yet; redeem a serial number to start one");
  }
  json::array servers;
  for (const auto& sv : rental->servers) {
    servers.push_back(json::object{{"region", sv.region},
                                   {"address", sv.host},
                                   {"port", sv.port},
                                   {"status", live_status(sv)}});
  }
  auto left = std::chrono::duration_cast<std::chrono::seconds>(rental->expires_at - now).count();
  json::object body{{"id", rental->id},
                    {"plan", rental->plan_name},
                    {"status", rental->status},
                    {"degraded", rental->degraded},
                    {"replicas", rental->replicas},
                    {"starts_at", format_rfc3339(rental->starts_at)},
                    {"expires_at", format_rfc3339(rental->expires_at)},
                    {"seconds_left", std::max<std::int64_t>(left, 0)},
                    {"traffic_quota_bytes", rental->quota},
                    {"traffic_used_bytes", rental->used},
                    {"traffic_left_bytes",
                     rental->quota == 0 ? json::value(nullptr)
                                        : json::value(rental->quota > rental->used ? rental->quota - rental->used : 0)},
                    {"servers", std::move(servers)}};
  co_return http::response::json(200, json::serialize(body));
}

// Regions the fleet offers (live, enrolled nodes), with how many nodes each has.
std::vector<std::pair<std::string, std::int64_t>> offered_regions(sql::Connection& conn) {
  auto ps = db::prepare(conn,
                        "SELECT region, COUNT(*) FROM nodes WHERE deleted_at IS NULL AND enrolled_at IS NOT NULL AND "
                        "NOT draining GROUP BY region ORDER BY region");
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (rs->next()) {
    out.emplace_back(rs->getString(1), rs->getInt64(2));
  }
  return out;
}

std::vector<std::string> split_regions(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (end > start) {
      out.push_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

json::object preferences_json(const std::vector<std::string>& chosen,
                              const std::vector<std::pair<std::string, std::int64_t>>& offered) {
  json::array regions;
  for (const auto& r : chosen) {
    regions.emplace_back(r);
  }
  json::array available;
  for (const auto& [name, nodes] : offered) {
    available.push_back(json::object{{"region", name}, {"nodes", nodes}});
  }
  return json::object{{"regions", std::move(regions)}, {"available", std::move(available)}};
}

std::string stored_preferences(sql::Connection& conn, std::uint64_t user) {
  auto ps = db::prepare(conn, "SELECT preferred_regions FROM users WHERE id = ?");
  ps->setUInt64(1, user);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  return rs->next() ? std::string(rs->getString(1)) : std::string();
}

net::awaitable<http::response> my_preferred_regions(app_services* s, http::request, auth::principal who) {
  auto user = who.id;
  auto unit = [user](sql::Connection& conn) {
    return std::make_pair(split_regions(stored_preferences(conn, user)), offered_regions(conn));
  };
  auto [chosen, offered] = co_await s->pool.run(std::move(unit));
  co_return http::response::json(200, json::serialize(preferences_json(chosen, offered)));
}

// The customer's preferred regions, most wanted first: placement tries them first for servers placed from now on
// (a new rental, a renewal after the reservation ended, a server moved off a node); running servers stay put.
net::awaitable<http::response> set_preferred_regions(app_services* s, http::request req, auth::principal who) {
  constexpr std::size_t max_regions = 5;
  auto body = http::parse_json_object(req);
  auto it = body.find("regions");
  if (it == body.end() || !it->value().is_array()) {
    throw api_error(400, "invalid_field", "regions must be a list of region names", "regions");
  }
  const auto& list = it->value().as_array();
  if (list.size() > max_regions) {
    throw api_error(400, "invalid_field", "at most 5 preferred regions", "regions");
  }
  std::vector<std::string> chosen;
  for (const auto& v : list) {
    if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 64) {
      throw api_error(400, "invalid_field", "each region must be a name of 1 to 64 characters", "regions");
    }
    std::string name(v.as_string());
    if (std::find(chosen.begin(), chosen.end(), name) != chosen.end()) {
      throw api_error(400, "invalid_field", "region " + name + " is listed twice", "regions");
    }
    chosen.push_back(std::move(name));
  }
  auto user = who.id;
  auto unit = [user, chosen](sql::Connection& conn) {
    auto offered = offered_regions(conn);
    std::string stored;
    for (const auto& name : chosen) {
      bool known = std::any_of(offered.begin(), offered.end(), [&](const auto& o) { return o.first == name; });
      if (!known) {
        throw api_error(400, "unknown_region", "no servers are offered in region " + name, "regions");
      }
      stored += (stored.empty() ? "" : ",") + name;
    }
    auto ps = db::prepare(conn, "UPDATE users SET preferred_regions = ? WHERE id = ?");
    ps->setString(1, stored);
    ps->setUInt64(2, user);
    ps->executeUpdate();
    return offered;
  };
  auto offered = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(preferences_json(chosen, offered)));
}

}  // namespace

void add_rental_routes(http::router& routes, app_services& services) {
  auth::add_customer_route(routes, services, "GET", "/api/v1/me/rental", "rental:read", false, my_rental);
  auth::add_customer_route(routes, services, "GET", "/api/v1/me/preferred-regions", "rental:read", false,
                           my_preferred_regions);
  auth::add_customer_route(routes, services, "PUT", "/api/v1/me/preferred-regions", "rental:write", false,
                           set_preferred_regions);
}

}  // namespace derpmgr::controller::rentals
