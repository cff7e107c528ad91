// Placement under concurrency: many workers (and the controller's own job) place 200 rentals at once; the database
// decides, so no (node, port) is ever given twice and every rental gets three servers on three hosts.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "controller/app/app_services.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/rentals/rental_lifecycle.hpp"
#include "tests/support/controller_fixture.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

TEST_CASE("200 rentals placed by concurrent workers never share a node and port") {
  controller_fixture c("race", [](controller::controller_config& cfg) { cfg.database_pool_size = 8; });
  auto now = format_sql_datetime(c.clk->now());
  for (int i = 0; i < 3; ++i) {
    auto ip = "10.9.0." + std::to_string(i + 1);
    c.db.execute("INSERT INTO nodes (name, region, public_ipv4, port_min, port_max, capacity, enrolled_at, "
                 "session_replica, last_seen_at, created_at, updated_at) VALUES ('race-" + std::to_string(i) +
                 "', 'r" + std::to_string(i) + "', '" + ip + "', 30000, 30999, 1000, '" + now + "', 'test', '" + now +
                 "', '" + now + "', '" + now + "')");
  }
  for (int i = 0; i < 200; ++i) {
    c.db.execute("INSERT INTO users (email, created_at) VALUES ('race" + std::to_string(i) + "@example.com', '" + now +
                 "')");
    c.db.execute("INSERT INTO rentals (user_id, plan_id, plan_name, duration_days, traffic_quota_bytes, device_limit, "
                 "replicas, regions, status, starts_at, expires_at, created_at, updated_at) VALUES (LAST_INSERT_ID(), "
                 "1, 'race', 30, 0, 5, 3, '', 'pending', '" + now + "', DATE_ADD('" + now + "', INTERVAL 30 DAY), '" +
                 now + "', '" + now + "')");
  }

  auto& services = c.app->services();
  controller::rentals::lifecycle_settings settings;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        int changed = 0;
        try {
          services.pool.run_blocking(
              [&](sql::Connection& conn) {
                changed = controller::rentals::rental_lifecycle::place(conn, services, c.clk->now(), settings, 3);
              },
              true);
        } catch (const std::exception&) {
          ++failures;
        }
        if (changed == 0 && c.db.scalar("SELECT COUNT(*) FROM rentals WHERE status <> 'active' OR degraded") == "0") {
          return;
        }
      }
    });
  }
  for (auto& t : workers) {
    t.join();
  }
  CHECK(failures == 0);
  CHECK(c.db.scalar("SELECT COUNT(*) FROM rentals WHERE status = 'active' AND NOT degraded") == "200");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM allocations WHERE released_at IS NULL") == "600");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM (SELECT node_id, port FROM allocations WHERE released_at IS NULL GROUP BY "
                    "node_id, port HAVING COUNT(*) > 1) d") == "0");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM (SELECT rental_id FROM allocations GROUP BY rental_id HAVING COUNT(*) = 3 "
                    "AND COUNT(DISTINCT node_id) = 3) r") == "200");
  // Ports are the lowest free ones: 200 per node, 30000–30199.
  CHECK(c.db.scalar("SELECT MAX(port) FROM allocations") == "30199");
}
