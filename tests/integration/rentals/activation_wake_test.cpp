// A purchase does not wait for the placement job's next turn: with the job set to run once an hour, a redeemed
// serial is placed and its three derpers answer within seconds (the redemption wakes placement, placement wakes the
// fleet hub, the hub wakes the agents' sessions).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "tests/integration/rentals/rental_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace derpmgr::test::rentals;
using namespace std::chrono_literals;

TEST_CASE("a redemption is placed and its servers start at once, not at the placement job's next turn") {
  fleet_controller fc([](controller::controller_config& cfg) { cfg.rentals_placement_interval_seconds = 3600; });
  cleanup done;
  auto a = add_node(fc, unique_name("wa"), "127.0.0.2", "tokyo");
  auto b = add_node(fc, unique_name("wb"), "127.0.0.3", "osaka");
  auto c = add_node(fc, unique_name("wc"), "127.0.0.4", "seoul");
  done.nodes = {a.id, b.id, c.id};
  auto codes = serials(fc, 1);
  browser buyer(fc.c.base_url(), test_origin);
  sign_in_customer(buyer, unique_name("eager") + "@example.com");

  auto started = std::chrono::steady_clock::now();
  auto redeemed = buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})");
  REQUIRE_MESSAGE(redeemed.status == 200, redeemed.body);
  auto rental = rental_field(fc, "id");
  // The job last ran when the controller started and would not run again for an hour.
  REQUIRE(wait_until([&] { return allocations_of(fc, rental).size() == 3; }, 10s));
  auto placed_after = std::chrono::steady_clock::now() - started;
  auto servers = allocations_of(fc, rental);
  std::set<std::int64_t> nodes;
  for (const auto& p : servers) {
    nodes.insert(p.node_id);
  }
  CHECK(nodes.size() == 3);
  for (const auto& p : servers) {
    probe_result r;
    CHECK_MESSAGE(wait_until([&] { r = probe(p.host, p.port); return r.status == 200; }, 60s), p.host);
    CHECK(r.pin == p.pin);
  }
  auto answering_after = std::chrono::steady_clock::now() - started;
  MESSAGE("placed after " << std::chrono::duration_cast<std::chrono::milliseconds>(placed_after).count()
                          << " ms, all three answering after "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(answering_after).count() << " ms");
  for (auto* n : {&a, &b, &c}) {
    n->agent->terminate();
  }
}
