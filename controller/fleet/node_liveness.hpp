#pragma once

#include <chrono>

#include "shared/clock/clock.hpp"

namespace derpmgr::controller::fleet {

struct node_row;

// What the fleet view says about a node's agent.
enum class node_liveness { pending, online, reconnecting, offline };

const char* to_string(node_liveness liveness);

// When a node counts as offline: silent for `offline_after`, but not before `restart_grace` has passed since this
// controller started, so that a controller restart (agents reconnect with jitter) does not flap the fleet.
struct liveness_policy {
  std::chrono::seconds offline_after{45};
  std::chrono::seconds restart_grace{120};
  time_point controller_started{};

  node_liveness of(const node_row& node, time_point now) const;
};

}  // namespace derpmgr::controller::fleet
