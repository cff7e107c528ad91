#include "controller/fleet/fleet_routes.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/app/app_services.hpp"
#include "controller/app/controller_config.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/statements.hpp"
#include "controller/fleet/allocation_repository.hpp"
#include "controller/fleet/enrollment.hpp"
#include "controller/fleet/node_input.hpp"
#include "controller/fleet/node_liveness.hpp"
#include "controller/fleet/node_repository.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"
#include "shared/net/listen_address.hpp"

namespace derpmgr::controller::fleet {

namespace json = boost::json;
using http::api_error;

namespace {

json::value optional_text(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

json::value optional_time(const std::optional<time_point>& t) {
  return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}

json::value parsed_or_null(const std::string& text) {
  if (text.empty()) {
    return nullptr;
  }
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

json::object node_json(const app_services& s, const node_row& n, const allocation_counts& counts) {
  const auto& c = n.settings;
  liveness_policy policy{std::chrono::seconds(45), std::chrono::seconds(s.config.agents_restart_grace_seconds),
                         s.started_at};
  return json::object{{"id", n.id},
                      {"name", c.name},
                      {"region", c.region},
                      {"public_ipv4", optional_text(c.public_ipv4)},
                      {"public_ipv6", optional_text(c.public_ipv6)},
                      {"dns_name", optional_text(c.dns_name)},
                      {"public_host", c.public_host()},
                      {"bind_ip", optional_text(c.bind_ip)},
                      {"port_min", c.port_min},
                      {"port_max", c.port_max},
                      {"capacity", c.capacity},
                      {"bandwidth_mbps", c.bandwidth_mbps},
                      {"monthly_traffic_cap_bytes", c.monthly_traffic_cap_bytes},
                      {"traffic_reset_day", c.traffic_reset_day},
                      {"provider", c.provider},
                      {"monthly_cost_cents", c.monthly_cost_cents},
                      {"currency", s.config.business_currency},
                      {"paid_until", optional_text(c.paid_until)},
                      {"draining", n.draining},
                      {"deleting", n.delete_requested_at.has_value()},
                      {"status", to_string(policy.of(n, s.clk.now()))},
                      {"enrolled_at", optional_time(n.enrolled_at)},
                      {"certificate_expires_at", optional_time(n.cert_expires_at)},
                      {"last_seen_at", optional_time(n.last_seen_at)},
                      {"agent_version", optional_text(n.agent_version)},
                      {"rtt_ms", n.rtt_ms ? json::value(*n.rtt_ms) : json::value(nullptr)},
                      {"host", parsed_or_null(n.host_facts)},
                      {"errors", n.agent_errors.empty() ? json::value(json::array{}) : parsed_or_null(n.agent_errors)},
                      {"desired_generation", n.desired_generation},
                      {"applied_generation", n.applied_generation},
                      {"allocations_desired", counts.desired},
                      {"allocations_running", counts.running},
                      {"created_at", format_rfc3339(n.created_at)}};
}

json::object allocation_json(const allocation_row& a) {
  json::array keys;
  for (const auto& k : a.allowed_keys) {
    keys.emplace_back(k);
  }
  return json::object{{"id", a.id},
                      {"node_id", a.node_id},
                      {"rental_id", a.rental_id ? json::value(*a.rental_id) : json::value(nullptr)},
                      {"port", a.port},
                      {"public_host", a.public_host},
                      {"config_version", a.config_version},
                      {"cert_pin", a.cert_pin},
                      {"cert_expires_at", format_rfc3339(a.cert_expires_at)},
                      {"state", a.state},
                      {"observed_state", optional_text(a.observed_state)},
                      {"observed_error", optional_text(a.observed_error)},
                      {"observed_at", optional_time(a.observed_at)},
                      {"allowed_keys", std::move(keys)},
                      {"replaced_by", a.replaced_by ? json::value(*a.replaced_by) : json::value(nullptr)},
                      {"created_at", format_rfc3339(a.created_at)}};
}

json::object enrollment_json(const app_services& s, const enrollment_token& token) {
  auto url = agents_url(s.config);
  return json::object{
      {"token", token.text},
      {"expires_at", format_rfc3339(token.expires_at)},
      {"controller_url", url},
      {"install_command", "derpmgr-agent enroll --controller " + url + " --token " + token.text +
                              " && systemctl enable --now derpmgr-agent"}};
}

const certificate_authority& require_ca(const app_services* s) {
  if (s->agent_ca == nullptr) {
    throw api_error(503, "no_agent_ca", "the agent CA is not configured; run `derpmgr-controller ca init`");
  }
  return *s->agent_ca;
}

net::awaitable<http::response> list_nodes(app_services* s, http::request, auth::principal) {
  auto unit = [](sql::Connection& conn) {
    return std::make_pair(node_repository::list(conn), node_repository::allocation_counts_by_node(conn));
  };
  auto [nodes, counts] = co_await s->pool.run(std::move(unit));
  json::array items;
  for (const auto& n : nodes) {
    items.emplace_back(node_json(*s, n, counts[n.id]));
  }
  co_return http::response::json(200, json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}}));
}

net::awaitable<http::response> show_node(app_services* s, http::request req, auth::principal) {
  auto id = http::id_param(req);
  auto unit = [id](sql::Connection& conn) {
    auto node = node_repository::by_id(conn, id);
    auto counts = node_repository::allocation_counts_by_node(conn)[id];
    auto allocations = node ? allocation_repository::list_live(conn, id) : std::vector<allocation_row>{};
    for (auto& a : allocations) {
      a.allowed_keys = allocation_repository::by_id(conn, a.id)->allowed_keys;
    }
    return std::make_tuple(node, counts, allocations);
  };
  auto [node, counts, allocations] = co_await s->pool.run(std::move(unit));
  if (!node) {
    throw api_error(404, "not_found", "no such node");
  }
  auto body = node_json(*s, *node, counts);
  json::array allocs;
  for (const auto& a : allocations) {
    allocs.emplace_back(allocation_json(a));
  }
  body["allocations"] = std::move(allocs);
  co_return http::response::json(200, json::serialize(body));
}

net::awaitable<http::response> create_node(app_services* s, http::request req, auth::principal who) {
  const auto& ca = require_ca(s);
  auto settings = node_settings_from(http::parse_json_object(req), node_settings{}, true);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "node.created", "");
  auto unit = [s, &ca, settings, now, event, admin = who.id](sql::Connection& conn) mutable {
    auto id = node_repository::insert(conn, settings, now);
    if (!id) {
      throw api_error(409, "name_taken", "a node with this name exists", "name");
    }
    auto token = enrollment::create_token(conn, s->keys, ca, *id, admin, now);
    event.target = "node:" + std::to_string(*id);
    event.details = json::object{{"name", settings.name}, {"region", settings.region}};
    s->audit(conn, event);
    return std::make_pair(*node_repository::by_id(conn, *id), token);
  };
  auto [node, token] = co_await s->pool.transact(std::move(unit));
  auto body = node_json(*s, node, allocation_counts{});
  body["enrollment"] = enrollment_json(*s, token);
  co_return http::response::json(201, json::serialize(body));
}

net::awaitable<http::response> update_node(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto body = http::parse_json_object(req);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "node.updated", "node:" + std::to_string(id));
  auto unit = [s, id, body, now, event](sql::Connection& conn) mutable {
    auto node = node_repository::by_id(conn, id, true);
    if (!node) {
      throw api_error(404, "not_found", "no such node");
    }
    auto settings = node_settings_from(body, node->settings, false);
    const auto& old = node->settings;
    bool moves = settings.public_host() != old.public_host() || settings.bind_ip != old.bind_ip;
    if (moves && allocation_repository::live_count(conn, id) > 0) {
      throw api_error(409, "node_has_allocations",
                      "the public address or bind address cannot change while allocations live on the node",
                      "public_ipv4");
    }
    for (const auto& a : allocation_repository::list_live(conn, id)) {
      if (a.port < settings.port_min || a.port > settings.port_max) {
        throw api_error(409, "node_has_allocations", "an allocation uses port " + std::to_string(a.port) +
                                                         ", outside the new range", "port_min");
      }
    }
    bool clash = false;
    node_repository::update(conn, id, settings, now, clash);
    if (clash) {
      throw api_error(409, "name_taken", "a node with this name exists", "name");
    }
    event.details = body;
    s->audit(conn, event);
    return std::make_pair(*node_repository::by_id(conn, id), node_repository::allocation_counts_by_node(conn)[id]);
  };
  auto [node, counts] = co_await s->pool.transact(std::move(unit));
  s->wake_fleet();
  co_return http::response::json(200, json::serialize(node_json(*s, node, counts)));
}

net::awaitable<http::response> new_token(app_services* s, http::request req, auth::principal who) {
  const auto& ca = require_ca(s);
  auto id = http::id_param(req);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "node.enrollment_token", "node:" + std::to_string(id));
  auto unit = [s, &ca, id, now, event, admin = who.id](sql::Connection& conn) {
    if (!node_repository::by_id(conn, id, true)) {
      throw api_error(404, "not_found", "no such node");
    }
    auto token = enrollment::create_token(conn, s->keys, ca, id, admin, now);
    s->audit(conn, event);
    return token;
  };
  auto token = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(201, json::serialize(enrollment_json(*s, token)));
}

net::awaitable<http::response> drain_node(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  bool draining = true;
  if (!req.body.empty()) {
    auto body = http::parse_json_object(req);
    if (auto it = body.find("draining"); it != body.end()) {
      if (!it->value().is_bool()) {
        throw api_error(400, "invalid_field", "draining must be true or false", "draining");
      }
      draining = it->value().as_bool();
    }
  }
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, draining ? "node.drain" : "node.undrain",
                               "node:" + std::to_string(id));
  auto unit = [s, id, draining, now, event](sql::Connection& conn) {
    auto node = node_repository::by_id(conn, id, true);
    if (node && node->delete_requested_at && !draining) {
      throw api_error(409, "node_deleting", "the node is being deleted", "draining");
    }
    if (!node_repository::set_draining(conn, id, draining, now)) {
      throw api_error(404, "not_found", "no such node");
    }
    s->audit(conn, event);
    return std::make_pair(*node_repository::by_id(conn, id), node_repository::allocation_counts_by_node(conn)[id]);
  };
  auto [node, counts] = co_await s->pool.transact(std::move(unit));
  s->wake_placement();
  co_return http::response::json(200, json::serialize(node_json(*s, node, counts)));
}

// The node's live (not yet released) allocations; `manual_or_reserved` keeps only those nobody re-places: made by
// hand, or reserved for a lapsed rental.
std::vector<std::uint64_t> unreleased_on(sql::Connection& conn, std::uint64_t node_id, bool manual_or_reserved) {
  auto ps = db::prepare(conn, std::string("SELECT id FROM allocations WHERE node_id = ? AND released_at IS NULL AND "
                                          "state <> 'released'") +
                                  (manual_or_reserved ? " AND (rental_id IS NULL OR state = 'reserved')" : "") +
                                  " ORDER BY id");
  ps->setUInt64(1, node_id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<std::uint64_t> ids;
  while (rs->next()) {
    ids.push_back(rs->getUInt64(1));
  }
  return ids;
}

// Deleting a node with live servers drains it: its rentals' servers are re-placed, hand-made and reserved ones are
// released, and the node is deleted (revoked) once the servers have moved (202). `?force=true` deletes at once: the
// rentals lose that server until placement finds another node.
net::awaitable<http::response> delete_node(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto query = http::parse_query(req.query);
  bool force = false;
  if (auto it = query.find("force"); it != query.end()) {
    if (it->second != "true" && it->second != "false") {
      throw api_error(400, "invalid_field", "force must be true or false", "force");
    }
    force = it->second == "true";
  }
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "node.deleted", "node:" + std::to_string(id));
  auto unit = [s, id, now, event, force](sql::Connection& conn) mutable -> std::optional<std::pair<node_row, allocation_counts>> {
    if (!node_repository::by_id(conn, id, true)) {
      throw api_error(404, "not_found", "no such node");
    }
    if (force || allocation_repository::live_count(conn, id) == 0) {
      for (auto a : unreleased_on(conn, id, false)) {
        allocation_repository::release(conn, a, now);
      }
      node_repository::soft_delete(conn, id, now);
      auto free = db::prepare(conn, "UPDATE allocations SET released_at = ? WHERE node_id = ? AND released_at IS NULL");
      free->setString(1, format_sql_datetime(now));
      free->setUInt64(2, id);
      free->executeUpdate();
      event.details = json::object{{"force", force}};
      s->audit(conn, event);
      return std::nullopt;
    }
    for (auto a : unreleased_on(conn, id, true)) {
      allocation_repository::release(conn, a, now);
    }
    node_repository::request_delete(conn, id, now);
    event.action = "node.delete_requested";
    s->audit(conn, event);
    return std::make_pair(*node_repository::by_id(conn, id), node_repository::allocation_counts_by_node(conn)[id]);
  };
  auto draining = co_await s->pool.transact(std::move(unit));
  // Hand-made servers are released now; the rentals' are re-placed by the placement job.
  s->wake_fleet();
  s->wake_placement();
  if (!draining) {
    co_return http::response{204, "application/json", "", {}};
  }
  co_return http::response::json(202, json::serialize(node_json(*s, draining->first, draining->second)));
}

std::vector<std::string> keys_from(const json::object& body) {
  std::vector<std::string> keys;
  auto it = body.find("allowed_keys");
  if (it == body.end() || it->value().is_null()) {
    return keys;
  }
  if (!it->value().is_array()) {
    throw api_error(400, "invalid_field", "allowed_keys must be a list of node keys", "allowed_keys");
  }
  for (const auto& v : it->value().as_array()) {
    if (!v.is_string() || !valid_node_key(std::string(v.as_string()))) {
      throw api_error(400, "invalid_field", "allowed_keys must be nodekey:<64 lowercase hex>", "allowed_keys");
    }
    keys.emplace_back(v.as_string());
  }
  if (keys.size() > 1000) {
    throw api_error(400, "invalid_field", "at most 1000 allowed_keys", "allowed_keys");
  }
  return keys;
}

template <class F>
auto mapping_allocation_errors(F&& f) {
  try {
    return f();
  } catch (const allocation_error& e) {
    throw api_error(e.status(), e.code(), e.what(), e.field());
  }
}

// GET /admin/allocations[?node_id=&rental_id=&state=]: live allocations (released ones stay listed, state
// "released", until their agent confirms the container is gone).
net::awaitable<http::response> list_allocations(app_services* s, http::request req, auth::principal) {
  auto query = http::parse_query(req.query);
  std::optional<std::uint64_t> node_id;
  if (auto node = http::int_param(query, "node_id", 1, INT64_MAX)) {
    node_id = static_cast<std::uint64_t>(*node);
  }
  std::optional<std::uint64_t> rental_id;
  if (auto rental = http::int_param(query, "rental_id", 1, INT64_MAX)) {
    rental_id = static_cast<std::uint64_t>(*rental);
  }
  std::string state;
  if (auto it = query.find("state"); it != query.end()) {
    state = it->second;
    if (state != "running" && state != "reserved" && state != "released") {
      throw api_error(400, "invalid_field", "state must be running, reserved or released", "state");
    }
  }
  auto unit = [node_id, rental_id, state](sql::Connection& conn) {
    auto rows = allocation_repository::list_live(conn, node_id, rental_id, state);
    for (auto& a : rows) {
      a.allowed_keys = allocation_repository::by_id(conn, a.id)->allowed_keys;
    }
    return rows;
  };
  auto rows = co_await s->pool.run(std::move(unit));
  json::array items;
  for (const auto& a : rows) {
    items.emplace_back(allocation_json(a));
  }
  co_return http::response::json(200, json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}}));
}

net::awaitable<http::response> create_allocation(app_services* s, http::request req, auth::principal who) {
  auto body = http::parse_json_object(req);
  allocation_request request;
  request.node_id = static_cast<std::uint64_t>(http::require_int(body, "node_id", 1, INT64_MAX));
  if (body.contains("port") && !body.at("port").is_null()) {
    request.port = static_cast<int>(http::require_int(body, "port", 1024, 65535));
  }
  request.allowed_keys = keys_from(body);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "allocation.created", "");
  auto unit = [s, request, now, event](sql::Connection& conn) mutable {
    auto node = node_repository::by_id(conn, request.node_id, true);
    if (!node) {
      throw api_error(404, "not_found", "no such node", "node_id");
    }
    auto row = mapping_allocation_errors(
        [&] { return allocation_repository::create(conn, s->keys, *node, request, now); });
    event.target = "allocation:" + std::to_string(row.id);
    event.details = json::object{{"node_id", row.node_id}, {"port", row.port}};
    s->audit(conn, event);
    return row;
  };
  auto row = co_await s->pool.transact(std::move(unit));
  s->wake_fleet();
  co_return http::response::json(201, json::serialize(allocation_json(row)));
}

net::awaitable<http::response> set_allocation_keys(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto keys = keys_from(http::parse_json_object(req));
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "allocation.keys", "allocation:" + std::to_string(id));
  event.details = json::object{{"count", keys.size()}};
  auto unit = [s, id, keys, now, event](sql::Connection& conn) {
    if (!allocation_repository::set_keys(conn, id, keys, now)) {
      throw api_error(404, "not_found", "no such live allocation");
    }
    s->audit(conn, event);
    return *allocation_repository::by_id(conn, id);
  };
  auto row = co_await s->pool.transact(std::move(unit));
  s->wake_fleet();
  co_return http::response::json(200, json::serialize(allocation_json(row)));
}

net::awaitable<http::response> release_allocation(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "allocation.released", "allocation:" + std::to_string(id));
  auto unit = [s, id, now, event](sql::Connection& conn) {
    if (!allocation_repository::release(conn, id, now)) {
      throw api_error(404, "not_found", "no such live allocation");
    }
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit));
  s->wake_fleet();
  co_return http::response{204, "application/json", "", {}};
}

// Moves one allocation to another node by hand: the replacement (new port and certificate, so the customer's config
// changes) is returned at once; the old one is released when the replacement runs.
net::awaitable<http::response> move_allocation(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto body = http::parse_json_object(req);
  auto target_id = static_cast<std::uint64_t>(http::require_int(body, "node_id", 1, INT64_MAX));
  std::optional<int> port;
  if (body.contains("port") && !body.at("port").is_null()) {
    port = static_cast<int>(http::require_int(body, "port", 1024, 65535));
  }
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "allocation.moved", "allocation:" + std::to_string(id));
  auto unit = [s, id, target_id, port, now, event](sql::Connection& conn) mutable {
    auto target = node_repository::by_id(conn, target_id, true);
    if (!target) {
      throw api_error(404, "not_found", "no such node", "node_id");
    }
    auto row = mapping_allocation_errors(
        [&] { return allocation_repository::move(conn, s->keys, id, *target, port, now); });
    event.details = json::object{{"to_node_id", row.node_id}, {"port", row.port}, {"replacement", row.id}};
    s->audit(conn, event);
    return row;
  };
  auto row = co_await s->pool.transact(std::move(unit));
  s->wake_fleet();
  co_return http::response::json(201, json::serialize(allocation_json(row)));
}

}  // namespace

std::string agents_url(const controller_config& config) {
  if (!config.agents_public_url.empty()) {
    return config.agents_public_url;
  }
  std::string host = "localhost";
  const auto& pub = config.http_public_url;
  if (auto start = pub.find("://"); start != std::string::npos) {
    auto rest = pub.substr(start + 3);
    host = rest.substr(0, rest.find('/'));
    if (!host.empty() && host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
  }
  auto listen = listen_address::parse(config.agents_listen);
  return "https://" + host + ":" + std::to_string(listen.port);
}

void add_fleet_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/nodes", "nodes:read", list_nodes);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/nodes", "nodes:write", create_node);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/nodes/{id}", "nodes:read", show_node);
  auth::add_admin_route(routes, services, "PATCH", "/api/v1/admin/nodes/{id}", "nodes:write", update_node);
  auth::add_admin_route(routes, services, "DELETE", "/api/v1/admin/nodes/{id}", "nodes:write", delete_node);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/nodes/{id}/enrollment-token", "nodes:write",
                        new_token);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/nodes/{id}/drain", "nodes:write", drain_node);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/allocations", "nodes:read", list_allocations);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/allocations", "nodes:write", create_allocation);
  auth::add_admin_route(routes, services, "PUT", "/api/v1/admin/allocations/{id}/keys", "nodes:write",
                        set_allocation_keys);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/allocations/{id}/move", "nodes:write",
                        move_allocation);
  auth::add_admin_route(routes, services, "DELETE", "/api/v1/admin/allocations/{id}", "nodes:write",
                        release_allocation);
}

}  // namespace derpmgr::controller::fleet
