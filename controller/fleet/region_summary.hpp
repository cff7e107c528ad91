#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::fleet {

struct liveness_policy;

// One node as the region view shows it.
struct region_node {
  std::uint64_t id = 0;
  std::string name;
  std::string status;  // node_liveness: pending, online, reconnecting, offline
  bool online = false;
  bool draining = false;
  std::int64_t capacity = 0;
  std::int64_t allocations = 0;  // live (not released) allocations
};

// What one region holds and serves. Allocations are the live (not released) ones, reserved included: they hold
// ports and count against capacity, as placement counts them.
struct region_figures {
  std::string region;
  std::vector<region_node> nodes;
  std::int64_t online = 0;
  std::int64_t allocations = 0;
  std::int64_t capacity = 0;
  std::int64_t customers = 0;  // distinct users whose rentals have a live allocation here
  std::int64_t rentals = 0;    // distinct rentals with a live allocation here
  // Recent throughput; always 0 until node telemetry (traffic_5m) exists.
  std::uint64_t bandwidth_bps = 0;

  // allocations / capacity (0 with no capacity).
  double capacity_used() const;
};

// Per-region figures for the admin region view, read in the caller's unit of work.
class region_summary {
 public:
  // Every region with a node that is not deleted, by name; nodes by id.
  static std::vector<region_figures> load(sql::Connection& conn, const liveness_policy& liveness, time_point now);
};

}  // namespace derpmgr::controller::fleet
