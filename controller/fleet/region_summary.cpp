#include "controller/fleet/region_summary.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "controller/db/statements.hpp"
#include "controller/fleet/node_liveness.hpp"
#include "controller/fleet/node_repository.hpp"

namespace derpmgr::controller::fleet {

namespace {

using db::prepare;
using results = std::unique_ptr<sql::ResultSet>;

std::map<std::uint64_t, std::int64_t> live_allocations_by_node(sql::Connection& conn) {
  auto ps = prepare(conn, "SELECT node_id, COUNT(*) FROM allocations WHERE released_at IS NULL GROUP BY node_id");
  results rs(ps->executeQuery());
  std::map<std::uint64_t, std::int64_t> out;
  while (rs->next()) {
    out[rs->getUInt64(1)] = rs->getInt64(2);
  }
  return out;
}

}  // namespace

double region_figures::capacity_used() const {
  return capacity > 0 ? static_cast<double>(allocations) / static_cast<double>(capacity) : 0.0;
}

std::vector<region_figures> region_summary::load(sql::Connection& conn, const liveness_policy& liveness,
                                                 time_point now) {
  auto per_node = live_allocations_by_node(conn);
  auto nodes = node_repository::list(conn);
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const node_row& a, const node_row& b) { return a.settings.region < b.settings.region; });
  std::vector<region_figures> out;
  for (const auto& n : nodes) {
    if (out.empty() || out.back().region != n.settings.region) {
      out.push_back(region_figures{n.settings.region, {}, 0, 0, 0, 0, 0, 0});
    }
    auto& r = out.back();
    auto state = liveness.of(n, now);
    region_node node{n.id,
                     n.settings.name,
                     to_string(state),
                     state == node_liveness::online,
                     n.draining,
                     n.settings.capacity,
                     per_node[n.id]};
    r.online += node.online ? 1 : 0;
    r.allocations += node.allocations;
    r.capacity += node.capacity;
    r.nodes.push_back(std::move(node));
  }
  auto served = prepare(conn,
                        "SELECT n.region, COUNT(DISTINCT r.user_id), COUNT(DISTINCT r.id) FROM allocations a "
                        "JOIN nodes n ON n.id = a.node_id JOIN rentals r ON r.id = a.rental_id "
                        "WHERE a.released_at IS NULL AND n.deleted_at IS NULL GROUP BY n.region");
  results srs(served->executeQuery());
  while (srs->next()) {
    std::string region = srs->getString(1);
    for (auto& r : out) {
      if (r.region == region) {
        r.customers = srs->getInt64(2);
        r.rentals = srs->getInt64(3);
      }
    }
  }
  return out;
}

}  // namespace derpmgr::controller::fleet
