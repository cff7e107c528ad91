#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace derpmgr::controller::rentals {

// A node as placement sees it.
struct node_candidate {
  std::uint64_t id = 0;
  std::string region;
  std::string public_host;
  bool online = false;
  bool draining = false;
  std::int64_t allocations = 0;  // live (not released)
  std::int64_t capacity = 0;
  std::uint64_t traffic_month_bytes = 0;
  std::uint64_t traffic_cap_bytes = 0;  // 0: none
  double recent_mbps = 0;               // 0 until telemetry lands
  std::int64_t bandwidth_mbps = 0;      // 0: unknown
};

// What one rental needs.
struct placement_request {
  int count = 0;                                 // servers still to place
  std::vector<std::string> allowed_regions;      // the plan's; empty: any
  std::vector<std::string> preferred_regions;    // the customer's, first choice
  std::set<std::uint64_t> taken_nodes;           // nodes the rental already has
  std::set<std::string> taken_hosts;             // their public addresses
  std::set<std::string> taken_regions;           // their regions
};

// A node's load in [0, ∞): 0.7 × allocations/capacity + 0.3 × recent bandwidth/the node's Mbit/s (the second term
// is 0 where either is unknown). Lower is emptier.
double load_of(const node_candidate& node);

// Picks up to request.count nodes: online, not draining, under capacity and traffic cap, in the allowed regions,
// each on a public address the rental does not have yet. One at a time it prefers a region the rental does not
// use yet, then the customer's preferred regions, then the lowest load (then the lower id, for stable results).
// Returns fewer when the fleet cannot do better.
std::vector<std::uint64_t> choose_nodes(const placement_request& request, const std::vector<node_candidate>& nodes);

}  // namespace derpmgr::controller::rentals
