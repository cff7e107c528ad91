#include "controller/fleet/region_routes.hpp"

#include <cppconn/connection.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "controller/app/app_services.hpp"
#include "controller/app/controller_config.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/fleet/node_liveness.hpp"
#include "controller/fleet/region_summary.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller::fleet {

namespace json = boost::json;

namespace {

json::object region_json(const region_figures& r) {
  json::array nodes;
  for (const auto& n : r.nodes) {
    nodes.emplace_back(json::object{{"id", n.id},
                                    {"name", n.name},
                                    {"status", n.status},
                                    {"online", n.online},
                                    {"draining", n.draining},
                                    {"capacity", n.capacity},
                                    {"allocations", n.allocations}});
  }
  return json::object{{"region", r.region},
                      {"nodes", std::move(nodes)},
                      {"node_count", r.nodes.size()},
                      {"online_count", r.online},
                      {"allocations", r.allocations},
                      {"capacity", r.capacity},
                      {"capacity_used", r.capacity_used()},
                      {"customers", r.customers},
                      {"rentals", r.rentals},
                      // No node telemetry yet: the field is part of the answer and stays 0 until traffic samples
                      // are stored.
                      {"bandwidth_bps", r.bandwidth_bps}};
}

net::awaitable<http::response> list_regions(app_services* s, http::request, auth::principal) {
  liveness_policy liveness{std::chrono::seconds(45), std::chrono::seconds(s->config.agents_restart_grace_seconds),
                           s->started_at};
  auto now = s->clk.now();
  auto unit = [liveness, now](sql::Connection& conn) { return region_summary::load(conn, liveness, now); };
  auto regions = co_await s->pool.run(std::move(unit));
  json::array items;
  for (const auto& r : regions) {
    items.emplace_back(region_json(r));
  }
  co_return http::response::json(200,
                                 json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}}));
}

}  // namespace

void add_region_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/regions", "nodes:read", list_regions);
}

}  // namespace derpmgr::controller::fleet
