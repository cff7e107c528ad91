#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/fleet/fleet_support.hpp"

// Helpers for the rental tests: enrolled nodes with running agents, serial codes for a short plan, and the
// allocations of a rental as stored.
namespace derpmgr::test::rentals {

struct node_with_agent {
  std::int64_t id = 0;
  std::string ip;
  std::unique_ptr<fleet::agent_process> agent;
};

// Creates a node on `ip` (20 ports, capacity 10), enrolls an agent for it and waits until the node is online.
node_with_agent add_node(fleet::fleet_controller& fc, const std::string& name, const std::string& ip,
                         const std::string& region);

// `count` serial codes for a fresh 3-day plan.
std::vector<std::string> serials(fleet::fleet_controller& fc, int count);

// A rental's server as stored: live and not released (a released one keeps its port until its agent confirms).
struct placed {
  std::int64_t id;
  std::int64_t node_id;
  int port;
  std::string host;
  std::string pin;
  std::string state;
};
std::vector<placed> allocations_of(fleet::fleet_controller& fc, const std::string& rental_id);

// A column of the newest rental.
std::string rental_field(fleet::fleet_controller& fc, const std::string& field);

// Removes the nodes' containers when the test ends, however it ends.
struct cleanup {
  std::vector<std::int64_t> nodes;
  ~cleanup();
};

}  // namespace derpmgr::test::rentals
