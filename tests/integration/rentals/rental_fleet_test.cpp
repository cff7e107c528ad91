// Rentals on the fleet: a redemption becomes three derper containers on three hosts; too small a fleet leaves the
// rental degraded until a node enrols; expiry keeps the ports and certificates reserved for a renewal, then frees
// them.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/rentals/rental_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace derpmgr::test::rentals;
using namespace std::chrono_literals;


TEST_CASE("a redemption becomes three derpers on three hosts; expiry reserves them and a renewal brings them back") {
  fleet_controller fc;
  cleanup done;
  auto a = add_node(fc, unique_name("ra"), "127.0.0.2", "tokyo");
  auto b = add_node(fc, unique_name("rb"), "127.0.0.3", "osaka");
  auto c = add_node(fc, unique_name("rc"), "127.0.0.4", "seoul");
  done.nodes = {a.id, b.id, c.id};
  auto codes = serials(fc, 2);

  browser buyer(fc.c.base_url(), test_origin);
  sign_in_customer(buyer, unique_name("renter") + "@example.com");
  auto redeemed = buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})");
  REQUIRE_MESSAGE(redeemed.status == 200, redeemed.body);
  auto rental = rental_field(fc, "id");

  REQUIRE(wait_until([&] { return rental_field(fc, "status") == "active"; }, 15s));
  CHECK(rental_field(fc, "degraded") == "0");
  auto first = allocations_of(fc, rental);
  REQUIRE(first.size() == 3);
  std::set<std::int64_t> nodes;
  for (const auto& p : first) {
    nodes.insert(p.node_id);
  }
  CHECK(nodes.size() == 3);  // three different hosts
  for (const auto& p : first) {
    probe_result r;
    CHECK_MESSAGE(wait_until([&] { r = probe(p.host, p.port); return r.status == 200; }, 60s), p.host);
    CHECK(r.pin == p.pin);
  }
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM rental_events WHERE rental_id = " + rental + " AND to_status = 'active'") ==
        "1");
  // The customer sees three running servers with their addresses and ports.
  CHECK(wait_until([&] {
    auto mine = buyer.get("/api/v1/me/rental");
    if (mine.status != 200) {
      return false;
    }
    auto view = json_of(mine);
    const auto& servers = view.at("servers").as_array();
    return view.at("status") == "active" && servers.size() == 3 &&
           std::all_of(servers.begin(), servers.end(), [](const auto& sv) {
             return sv.as_object().at("status") == "running" && sv.as_object().at("port").as_int64() > 0;
           });
  }, 20s));

  // The paid period ends: containers go, the allocations stay reserved.
  fc.c.clk->advance(std::chrono::hours(24 * 3) + std::chrono::minutes(1));
  fc.c.app->run_jobs_now();
  CHECK(rental_field(fc, "status") == "expired");
  for (const auto& p : allocations_of(fc, rental)) {
    CHECK(p.state == "reserved");
  }
  CHECK(wait_until([&] {
    return node_containers(a.id).empty() && node_containers(b.id).empty() && node_containers(c.id).empty();
  }, 30s));

  // A renewal inside the reservation window: the same ports and the same certificates come back.
  auto renewed = buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[1] + R"("})");
  REQUIRE_MESSAGE(renewed.status == 200, renewed.body);
  // The nodes count as online again once their agents have reported under the advanced clock (every 15 s).
  CHECK(wait_until([&] {
    fc.c.app->run_jobs_now();
    return rental_field(fc, "status") == "active";
  }, 30s));
  auto again = allocations_of(fc, rental);
  REQUIRE(again.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(again[i].id == first[i].id);
    CHECK(again[i].port == first[i].port);
    CHECK(again[i].pin == first[i].pin);
    CHECK(again[i].state == "running");
  }
  for (const auto& p : again) {
    probe_result r;
    CHECK(wait_until([&] { r = probe(p.host, p.port); return r.status == 200; }, 60s));
    CHECK(r.pin == p.pin);
  }

  // Lapsed past the reservation window: the ports are freed.
  fc.c.clk->advance(std::chrono::hours(24 * (3 + 7)) + std::chrono::minutes(2));
  fc.c.app->run_jobs_now();
  fc.c.app->run_jobs_now();
  CHECK(rental_field(fc, "status") == "expired");
  CHECK(allocations_of(fc, rental).empty());
  // The ports are free once each agent confirms it has converged past the release (its containers were gone already).
  CHECK(wait_until([&] {
    return fc.c.db.scalar("SELECT COUNT(*) FROM allocations WHERE rental_id = " + rental +
                          " AND released_at IS NOT NULL") == "3";
  }, 30s));
  for (auto* n : {&a, &b, &c}) {
    n->agent->terminate();
  }
}

TEST_CASE("on a two-node fleet a rental is degraded, and completed when a third node enrols") {
  fleet_controller fc;
  cleanup done;
  auto a = add_node(fc, unique_name("da"), "127.0.0.2", "tokyo");
  auto b = add_node(fc, unique_name("db"), "127.0.0.3", "tokyo");
  done.nodes = {a.id, b.id};
  auto codes = serials(fc, 1);
  browser buyer(fc.c.base_url(), test_origin);
  sign_in_customer(buyer, unique_name("renter") + "@example.com");
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})").status == 200);
  auto rental = rental_field(fc, "id");
  REQUIRE(wait_until([&] { return rental_field(fc, "status") == "active"; }, 15s));
  CHECK(rental_field(fc, "degraded") == "1");
  CHECK(allocations_of(fc, rental).size() == 2);

  auto c = add_node(fc, unique_name("dc"), "127.0.0.4", "osaka");
  done.nodes.push_back(c.id);
  CHECK(wait_until([&] { return rental_field(fc, "degraded") == "0"; }, 20s));
  auto all = allocations_of(fc, rental);
  REQUIRE(all.size() == 3);
  CHECK(std::any_of(all.begin(), all.end(), [&](const placed& p) { return p.node_id == c.id; }));
  CHECK(wait_until([&] { return node_containers(c.id).size() == 1; }, 60s));
  for (auto* n : {&a, &b, &c}) {
    n->agent->terminate();
  }
}

TEST_CASE("draining a node moves its rentals' servers to other nodes and tells the customers") {
  fleet_controller fc;
  cleanup done;
  auto a = add_node(fc, unique_name("xa"), "127.0.0.2", "tokyo");
  auto b = add_node(fc, unique_name("xb"), "127.0.0.3", "osaka");
  auto c = add_node(fc, unique_name("xc"), "127.0.0.4", "seoul");
  done.nodes = {a.id, b.id, c.id};
  auto codes = serials(fc, 1);
  browser buyer(fc.c.base_url(), test_origin);
  auto email = unique_name("mover") + "@example.com";
  sign_in_customer(buyer, email);
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})").status == 200);
  auto rental = rental_field(fc, "id");
  REQUIRE(wait_until([&] { return rental_field(fc, "status") == "active"; }, 15s));
  REQUIRE(wait_until([&] { return node_containers(a.id).size() == 1; }, 60s));

  auto spare = add_node(fc, unique_name("xd"), "127.0.0.5", "taipei");
  done.nodes.push_back(spare.id);
  auto drained = fc.admin.post("/api/v1/admin/nodes/" + std::to_string(a.id) + "/drain", "{}");
  REQUIRE(drained.status == 200);

  // Back to three healthy servers, none on the drained node, and its container removed.
  CHECK_MESSAGE(wait_until([&] {
    auto all = allocations_of(fc, rental);
    return all.size() == 3 && std::none_of(all.begin(), all.end(), [&](const placed& p) { return p.node_id == a.id; });
  }, 60s), spare.agent->log());
  CHECK(wait_until([&] { return node_containers(a.id).empty(); }, 30s));
  CHECK(wait_until([&] { return node_containers(spare.id).size() == 1; }, 30s));
  CHECK(rental_field(fc, "degraded") == "0");
  CHECK(wait_for_mail(services::from_env().mail_dir, email, "127.0.0.5"));
  for (auto* n : {&a, &b, &c, &spare}) {
    n->agent->terminate();
  }
}

TEST_CASE("a node offline past replace_after_offline has its servers re-placed; under it they are left alone") {
  fleet_controller fc;
  cleanup done;
  auto a = add_node(fc, unique_name("oa"), "127.0.0.2", "tokyo");
  auto b = add_node(fc, unique_name("ob"), "127.0.0.3", "osaka");
  auto c = add_node(fc, unique_name("oc"), "127.0.0.4", "seoul");
  auto spare = add_node(fc, unique_name("od"), "127.0.0.5", "taipei");
  done.nodes = {a.id, b.id, c.id, spare.id};
  // Fill the spare so the rental lands on a, b and c; free it afterwards.
  auto filler = fc.create_allocation(spare.id, {});
  auto codes = serials(fc, 1);
  browser buyer(fc.c.base_url(), test_origin);
  sign_in_customer(buyer, unique_name("offline") + "@example.com");
  fc.c.db.execute("UPDATE nodes SET capacity = 1 WHERE id = " + std::to_string(spare.id));
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})").status == 200);
  auto rental = rental_field(fc, "id");
  REQUIRE(wait_until([&] { return rental_field(fc, "status") == "active" && allocations_of(fc, rental).size() == 3; },
                     15s));
  fc.c.db.execute("UPDATE nodes SET capacity = 10 WHERE id = " + std::to_string(spare.id));
  auto on_a = [&] {
    auto all = allocations_of(fc, rental);
    return std::count_if(all.begin(), all.end(), [&](const placed& p) { return p.node_id == a.id; });
  };
  REQUIRE(on_a() == 1);
  REQUIRE(wait_until([&] { return node_containers(a.id).size() == 1; }, 60s));

  a.agent->kill9();
  auto others_fresh = [&] {
    // The live agents write last_seen with the (advanced) manual clock every 15 s.
    return wait_until([&] {
      return fc.c.db.scalar("SELECT COUNT(*) FROM nodes WHERE id IN (" + std::to_string(b.id) + "," +
                            std::to_string(c.id) + "," + std::to_string(spare.id) + ") AND last_seen_at >= '" +
                            format_sql_datetime(fc.c.clk->now() - 40s) + "'") == "3";
    }, 30s);
  };
  fc.c.clk->advance(std::chrono::hours(2));
  REQUIRE(others_fresh());
  fc.c.app->run_jobs_now();
  CHECK(on_a() == 1);  // two hours offline: left alone
  CHECK(allocations_of(fc, rental).size() == 3);

  fc.c.clk->advance(std::chrono::hours(23));
  REQUIRE(others_fresh());
  fc.c.app->run_jobs_now();
  // A replacement on the spare; the server on the dead node goes once the replacement runs.
  CHECK(wait_until([&] {
    auto all = allocations_of(fc, rental);
    return std::any_of(all.begin(), all.end(), [&](const placed& p) { return p.node_id == spare.id; });
  }, 20s));
  CHECK(wait_until([&] {
    fc.c.app->run_jobs_now();
    return on_a() == 0 && allocations_of(fc, rental).size() == 3;
  }, 60s));
  // The dead node comes back: its container, no longer wanted, is removed and then its port freed.
  CHECK(node_containers(a.id).size() == 1);
  a.agent->start();
  CHECK(wait_until([&] { return node_containers(a.id).empty(); }, 60s));
  CHECK(wait_until([&] {
    return fc.c.db.scalar("SELECT COUNT(*) FROM allocations WHERE node_id = " + std::to_string(a.id) +
                          " AND released_at IS NULL") == "0";
  }, 30s));
  (void)filler;
  for (auto* n : {&a, &b, &c, &spare}) {
    n->agent->terminate();
  }
}
