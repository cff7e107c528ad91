#pragma once

namespace derpmgr::controller {
struct app_services;
struct controller_config;
namespace http {
class router;
}
}  // namespace derpmgr::controller

#include <string>

namespace derpmgr::controller::fleet {

// Admin API for nodes (create → enrollment token and install command, list, show, update, drain, delete) and
// allocations made by hand (create, change admitted keys, release).
void add_fleet_routes(http::router& routes, app_services& services);

// The URL agents dial: [agents] public_url, else the public URL's host with the agent listener's port.
std::string agents_url(const controller_config& config);

}  // namespace derpmgr::controller::fleet
