#include "controller/rentals/placement.hpp"

#include <algorithm>
#include <tuple>

namespace derpmgr::controller::rentals {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool eligible(const node_candidate& n, const placement_request& r) {
  if (!n.online || n.draining || n.allocations >= n.capacity) {
    return false;
  }
  if (n.traffic_cap_bytes > 0 && n.traffic_month_bytes >= n.traffic_cap_bytes) {
    return false;
  }
  if (!r.allowed_regions.empty() && !contains(r.allowed_regions, n.region)) {
    return false;
  }
  return !r.taken_nodes.contains(n.id) && !r.taken_hosts.contains(n.public_host);
}

}  // namespace

double load_of(const node_candidate& node) {
  double load = node.capacity > 0 ? 0.7 * static_cast<double>(node.allocations) / static_cast<double>(node.capacity)
                                  : 0.7;
  if (node.bandwidth_mbps > 0 && node.recent_mbps > 0) {
    load += 0.3 * node.recent_mbps / static_cast<double>(node.bandwidth_mbps);
  }
  return load;
}

std::vector<std::uint64_t> choose_nodes(const placement_request& request, const std::vector<node_candidate>& nodes) {
  placement_request r = request;
  std::vector<node_candidate> pool = nodes;
  std::vector<std::uint64_t> chosen;
  while (static_cast<int>(chosen.size()) < request.count) {
    const node_candidate* best = nullptr;
    auto rank = [&](const node_candidate& n) {
      bool new_region = !r.taken_regions.contains(n.region);
      bool preferred = contains(r.preferred_regions, n.region);
      return std::make_tuple(!new_region, !preferred, load_of(n), n.id);
    };
    for (const auto& n : pool) {
      if (eligible(n, r) && (best == nullptr || rank(n) < rank(*best))) {
        best = &n;
      }
    }
    if (best == nullptr) {
      break;
    }
    chosen.push_back(best->id);
    r.taken_nodes.insert(best->id);
    r.taken_hosts.insert(best->public_host);
    r.taken_regions.insert(best->region);
    for (auto& n : pool) {
      if (n.id == best->id) {
        ++n.allocations;
      }
    }
  }
  return chosen;
}

}  // namespace derpmgr::controller::rentals
