// Admin actions on rentals: list and filter, suspend (servers stop), resume, extra days, cancel.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>

#include "tests/support/api_helpers.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

TEST_CASE("admins suspend, resume, extend and cancel rentals, and the servers follow") {
  controller_fixture c("rentadm");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "operator");
  auto now = format_sql_datetime(c.clk->now());
  c.db.execute("INSERT INTO nodes (name, region, public_ipv4, port_min, port_max, capacity, enrolled_at, "
               "session_replica, last_seen_at, created_at, updated_at) VALUES ('adm-1', 'r1', '10.9.1.1', 30000, "
               "30099, 10, '" + now + "', 'test', '" + now + "', '" + now + "', '" + now + "')");
  c.db.execute("INSERT INTO users (email, created_at) VALUES ('adm@example.com', '" + now + "')");
  c.db.execute("INSERT INTO rentals (user_id, plan_id, plan_name, duration_days, traffic_quota_bytes, device_limit, "
               "replicas, regions, status, starts_at, expires_at, created_at, updated_at) VALUES (LAST_INSERT_ID(), 1, "
               "'adm', 30, 0, 5, 1, '', 'pending', '" + now + "', '2099-01-01 00:00:00', '" + now + "', '" + now + "')");
  auto rental = c.db.scalar("SELECT id FROM rentals");
  auto node = c.db.scalar("SELECT id FROM nodes");
  c.app->run_jobs_now();
  REQUIRE(c.db.scalar("SELECT status FROM rentals") == "active");
  auto generation = [&] { return std::stoll(c.db.scalar("SELECT desired_generation FROM nodes")); };

  auto listed = json_of(admin.get("/api/v1/admin/rentals?status=active&node_id=" + node));
  REQUIRE(listed.at("items").as_array().size() == 1);
  CHECK(listed.at("items").as_array()[0].at("servers_running") == 1);
  CHECK(admin.get("/api/v1/admin/rentals?status=bogus").status == 400);

  auto no_reason = admin.post("/api/v1/admin/rentals/" + rental + "/suspend", "{}");
  CHECK(no_reason.status == 400);
  CHECK(error_field(no_reason) == "reason");

  auto g0 = generation();
  auto suspended = admin.post("/api/v1/admin/rentals/" + rental + "/suspend", R"({"reason":"abuse report"})");
  REQUIRE_MESSAGE(suspended.status == 200, suspended.body);
  CHECK(json_of(suspended).at("status") == "suspended");
  CHECK(c.db.scalar("SELECT state FROM allocations") == "stopped");
  CHECK(generation() > g0);  // the agent is told to stop the container
  CHECK(admin.post("/api/v1/admin/rentals/" + rental + "/suspend", R"({"reason":"again"})").status == 409);
  c.app->run_jobs_now();
  CHECK(c.db.scalar("SELECT status FROM rentals") == "suspended");  // never lifted automatically

  auto resumed = admin.post("/api/v1/admin/rentals/" + rental + "/resume", R"({"reason":"resolved"})");
  REQUIRE(resumed.status == 200);
  CHECK(c.db.scalar("SELECT state FROM allocations") == "running");

  auto extended = admin.post("/api/v1/admin/nodes/" + node + "/extend-rentals", R"({"days":2,"reason":"outage"})");
  REQUIRE_MESSAGE(extended.status == 200, extended.body);
  CHECK(json_of(extended).at("extended") == 1);
  CHECK(c.db.scalar("SELECT expires_at FROM rentals").substr(0, 10) == "2099-01-03");
  CHECK(admin.post("/api/v1/admin/rentals/" + rental + "/extend", R"({"days":0,"reason":"x"})").status == 400);

  auto cancelled = admin.post("/api/v1/admin/rentals/" + rental + "/cancel", R"({"reason":"refund"})");
  REQUIRE(cancelled.status == 200);
  CHECK(c.db.scalar("SELECT state FROM allocations") == "reserved");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM rental_events WHERE reason LIKE '%by an admin%'") == "3");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'rental.%' OR action = "
                    "'node.rentals_extended'") == "4");

  browser support(c.base_url(), test_origin);
  sign_in_admin(c, support, "support");
  CHECK(support.get("/api/v1/admin/rentals").status == 200);
  CHECK(support.post("/api/v1/admin/rentals/" + rental + "/resume", R"({"reason":"x"})").status == 403);
}
