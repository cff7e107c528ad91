#include "controller/fleet/region_summary.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

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

std::optional<time_point> time_or_none(sql::ResultSet& rs, int index) {
  if (rs.isNull(index)) {
    return std::nullopt;
  }
  return parse_sql_datetime(std::string(rs.getString(index)));
}

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
  auto ps = prepare(conn,
                    "SELECT id, name, region, enrolled_at, session_replica, last_seen_at, capacity, draining "
                    "FROM nodes WHERE deleted_at IS NULL ORDER BY region, id");
  results rs(ps->executeQuery());
  std::vector<region_figures> out;
  while (rs->next()) {
    node_row n;
    n.id = rs->getUInt64(1);
    n.settings.name = rs->getString(2);
    n.settings.region = rs->getString(3);
    n.enrolled_at = time_or_none(*rs, 4);
    n.session_replica = rs->isNull(5) ? std::string() : std::string(rs->getString(5));
    n.last_seen_at = time_or_none(*rs, 6);
    if (out.empty() || out.back().region != n.settings.region) {
      out.push_back(region_figures{n.settings.region, {}, 0, 0, 0, 0, 0, 0});
    }
    auto& r = out.back();
    auto state = liveness.of(n, now);
    region_node node{n.id,
                     n.settings.name,
                     to_string(state),
                     state == node_liveness::online,
                     rs->getBoolean(8),
                     rs->getInt64(7),
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
