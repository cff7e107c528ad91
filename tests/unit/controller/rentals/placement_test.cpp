#include "controller/rentals/placement.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::rentals;

namespace {

node_candidate node(std::uint64_t id, std::string region, std::string host, std::int64_t allocations = 0) {
  node_candidate n;
  n.id = id;
  n.region = std::move(region);
  n.public_host = std::move(host);
  n.online = true;
  n.capacity = 10;
  n.allocations = allocations;
  return n;
}

placement_request wants(int count) {
  placement_request r;
  r.count = count;
  return r;
}

}  // namespace

TEST_CASE("placement spreads over regions first, then the emptiest nodes") {
  std::vector<node_candidate> fleet{node(1, "tokyo", "10.0.0.1", 5), node(2, "tokyo", "10.0.0.2", 0),
                                    node(3, "osaka", "10.0.0.3", 9), node(4, "seoul", "10.0.0.4", 3)};
  auto chosen = choose_nodes(wants(3), fleet);
  // One per region; in tokyo the emptier node 2.
  CHECK(chosen == std::vector<std::uint64_t>{2, 4, 3});
}

TEST_CASE("with fewer regions than replicas, regions repeat but hosts never do") {
  std::vector<node_candidate> fleet{node(1, "tokyo", "10.0.0.1"), node(2, "tokyo", "10.0.0.1"),
                                    node(3, "tokyo", "10.0.0.3"), node(4, "osaka", "10.0.0.4")};
  auto chosen = choose_nodes(wants(3), fleet);
  REQUIRE(chosen.size() == 3);
  CHECK(chosen[0] == 1);
  CHECK(chosen[1] == 4);
  CHECK(chosen[2] == 3);  // node 2 shares 10.0.0.1 with node 1
}

TEST_CASE("offline, draining, full and over-cap nodes are never chosen; fewer come back when none are left") {
  auto offline = node(1, "a", "h1");
  offline.online = false;
  auto draining = node(2, "b", "h2");
  draining.draining = true;
  auto full = node(3, "c", "h3", 10);
  auto capped = node(4, "d", "h4");
  capped.traffic_cap_bytes = 100;
  capped.traffic_month_bytes = 100;
  auto good = node(5, "e", "h5");
  auto chosen = choose_nodes(wants(3), {offline, draining, full, capped, good});
  CHECK(chosen == std::vector<std::uint64_t>{5});
}

TEST_CASE("the plan's regions bound placement and the customer's preferred regions come first") {
  std::vector<node_candidate> fleet{node(1, "tokyo", "h1"), node(2, "osaka", "h2"), node(3, "seoul", "h3"),
                                    node(4, "frankfurt", "h4")};
  auto r = wants(2);
  r.allowed_regions = {"osaka", "seoul", "frankfurt"};
  r.preferred_regions = {"frankfurt"};
  auto chosen = choose_nodes(r, fleet);
  REQUIRE(chosen.size() == 2);
  CHECK(chosen[0] == 4);
  CHECK(chosen[1] == 2);
}

TEST_CASE("completing a degraded rental avoids the hosts and regions it already has") {
  std::vector<node_candidate> fleet{node(1, "tokyo", "h1"), node(2, "osaka", "h2"), node(3, "osaka", "h3")};
  auto r = wants(1);
  r.taken_nodes = {2};
  r.taken_hosts = {"h2"};
  r.taken_regions = {"osaka"};
  CHECK(choose_nodes(r, fleet) == std::vector<std::uint64_t>{1});
}

TEST_CASE("load blends allocations with recent bandwidth") {
  auto n = node(1, "a", "h", 5);
  CHECK(load_of(n) == doctest::Approx(0.35));
  n.bandwidth_mbps = 1000;
  n.recent_mbps = 500;
  CHECK(load_of(n) == doctest::Approx(0.5));
}
