#include "controller/fleet/node_command.hpp"

#include <cppconn/connection.h>

#include <boost/json/object.hpp>
#include <iostream>

#include "controller/app/app_services.hpp"
#include "controller/app/controller_app.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/fleet/ca_files.hpp"
#include "controller/fleet/enrollment.hpp"
#include "controller/fleet/fleet_routes.hpp"
#include "controller/fleet/node_input.hpp"
#include "controller/http/http_types.hpp"
#include "shared/tls/certificate_authority.hpp"

namespace derpmgr::controller::fleet {

int node_create_command(controller_app& app, const std::string& name, const std::string& region,
                        const std::string& public_ip, const std::string& dns_name, const std::string& ports,
                        int capacity) {
  app.prepare();
  auto& s = app.services();
  auto ca = load_ca(ca_directory(s.config));
  auto dash = ports.find('-');
  if (dash == std::string::npos) {
    std::cerr << "derpmgr-controller: --ports must be a range like 40000-40999\n";
    return 2;
  }
  boost::json::object body{{"name", name}, {"region", region}, {"capacity", capacity}};
  try {
    body["port_min"] = std::stoll(ports.substr(0, dash));
    body["port_max"] = std::stoll(ports.substr(dash + 1));
  } catch (const std::exception&) {
    std::cerr << "derpmgr-controller: --ports must be a range like 40000-40999\n";
    return 2;
  }
  if (!public_ip.empty()) {
    body[is_ip_literal(public_ip, 6) ? "public_ipv6" : "public_ipv4"] = public_ip;
  }
  if (!dns_name.empty()) {
    body["dns_name"] = dns_name;
  }
  node_settings settings;
  try {
    settings = node_settings_from(body, node_settings{}, true);
  } catch (const http::api_error& e) {
    std::cerr << "derpmgr-controller: " << e.field() << ": " << e.what() << "\n";
    return 2;
  }
  auto now = s.clk.now();
  std::uint64_t node_id = 0;
  enrollment_token token;
  bool taken = false;
  s.pool.run_blocking(
      [&](sql::Connection& conn) {
        auto id = node_repository::insert(conn, settings, now);
        if (!id) {
          taken = true;
          return;
        }
        node_id = *id;
        token = enrollment::create_token(conn, s.keys, ca, *id, 0, now);
        audit_event event;
        event.actor_kind = "system";
        event.action = "node.created";
        event.target = "node:" + std::to_string(*id);
        event.details = boost::json::object{{"name", settings.name}, {"via", "cli"}};
        s.audit(conn, event);
      },
      true);
  if (taken) {
    std::cerr << "derpmgr-controller: a node named " << settings.name << " exists\n";
    return 1;
  }
  // The token is shown once, to the operator's terminal; it is never logged.
  std::cout << "node " << node_id << " created\n"
            << "enrollment token (valid 1 h, once): " << token.text << "\n"
            << "install: derpmgr-agent enroll --controller " << agents_url(s.config) << " --token " << token.text
            << " && systemctl enable --now derpmgr-agent\n";
  return 0;
}

}  // namespace derpmgr::controller::fleet
