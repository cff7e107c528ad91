// Placement under concurrency: many workers on two controller replicas (and the controllers' own jobs) place 200
// rentals at once; the database decides, so no (node, port) is ever given twice and every rental gets three servers
// on three hosts. Then a handful of concurrent redemptions start as real containers on real agents.
#include <doctest/doctest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "controller/app/app_services.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/rentals/rental_lifecycle.hpp"
#include "tests/integration/rentals/rental_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace std::chrono_literals;

TEST_CASE("200 rentals placed by concurrent workers on two replicas never share a node and port") {
  controller_fixture c("race", [](controller::controller_config& cfg) { cfg.database_pool_size = 4; });
  controller_fixture other("race", [&c](controller::controller_config& cfg) {
    cfg.database_pool_size = 4;
    cfg.database_url = c.db.url();
    cfg.agents_ca_dir = c.ca_dir().string();
    cfg.security_master_key_file = (c.state / "master.key").string();
  });
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

  controller::rentals::lifecycle_settings settings;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    auto* replica = &(w % 2 == 0 ? c : other).app->services();
    workers.emplace_back([&, replica] {
      auto& services = *replica;
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

TEST_CASE("concurrent redemptions on a real fleet start their containers with distinct ports") {
  fleet::fleet_controller fc;
  rentals::cleanup done;
  auto a = rentals::add_node(fc, unique_name("ca"), "127.0.0.2", "tokyo");
  auto b = rentals::add_node(fc, unique_name("cb"), "127.0.0.3", "osaka");
  auto d = rentals::add_node(fc, unique_name("cc"), "127.0.0.4", "seoul");
  done.nodes = {a.id, b.id, d.id};
  constexpr int customers = 4;  // 12 containers: the vfs storage driver is slow
  auto codes = rentals::serials(fc, customers);
  std::vector<std::unique_ptr<browser>> buyers;
  for (int i = 0; i < customers; ++i) {
    buyers.push_back(std::make_unique<browser>(fc.c.base_url(), test_origin));
    sign_in_customer(*buyers.back(), unique_name("crowd") + "@example.com");
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < customers; ++i) {
    threads.emplace_back([&, i] {
      if (buyers[i]->post("/api/v1/me/redeem", R"({"serial":")" + codes[i] + R"("})").status == 200) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  REQUIRE(ok == customers);
  REQUIRE(fleet::wait_until([&] {
    return fc.c.db.scalar("SELECT COUNT(*) FROM rentals WHERE status = 'active' AND NOT degraded") ==
           std::to_string(customers);
  }, 30s));
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM (SELECT node_id, port FROM allocations WHERE released_at IS NULL GROUP BY "
                       "node_id, port HAVING COUNT(*) > 1) d") == "0");
  // Every server answers over TLS with the certificate its pin names.
  auto rows = fc.c.db.scalar("SELECT GROUP_CONCAT(CONCAT_WS(' ', public_host, port, cert_pin) SEPARATOR ' ') FROM "
                             "allocations WHERE released_at IS NULL");
  std::istringstream in(rows);
  std::string host, pin;
  int port = 0, answered = 0;
  while (in >> host >> port >> pin) {
    fleet::probe_result r;
    auto where = host + ":" + std::to_string(port);
    CHECK_MESSAGE(fleet::wait_until([&] { r = fleet::probe(host, port); return r.status == 200; }, 90s), where);
    CHECK(r.pin == pin);
    answered += r.status == 200 ? 1 : 0;
  }
  CHECK(answered == 3 * customers);
  for (auto* n : {&a, &b, &d}) {
    n->agent->terminate();
  }
}
