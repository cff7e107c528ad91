// GET /admin/regions on a fleet seeded in the database, against figures worked out by hand.
#include <doctest/doctest.h>

#include <map>

#include "tests/support/api_helpers.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace std::chrono_literals;

namespace {

struct seeded {
  controller_fixture& c;
  std::string now = "'" + format_sql_datetime(c.clk->now()) + "'";

  // enrolled: has an agent certificate; online: a live session heard now; deleted: soft-deleted.
  std::string node(const std::string& name, const std::string& region, int capacity, bool enrolled, bool online,
                   bool deleted = false) {
    c.db.execute("INSERT INTO nodes (name, region, public_ipv4, port_min, port_max, capacity, enrolled_at, "
                 "session_replica, last_seen_at, created_at, updated_at, deleted_at) VALUES ('" + name + "', '" +
                 region + "', '10.8.0.1', 30000, 30099, " + std::to_string(capacity) + ", " +
                 (enrolled ? now : "NULL") + ", " + (online ? "'test'" : "NULL") + ", " +
                 (enrolled ? now : "NULL") + ", " + now + ", " + now + ", " + (deleted ? now : "NULL") + ")");
    return c.db.scalar("SELECT MAX(id) FROM nodes");
  }
  std::string user() {
    c.db.execute("INSERT INTO users (email, created_at) VALUES ('" + unique_name("reg") + "@example.com', " + now +
                 ")");
    return c.db.scalar("SELECT MAX(id) FROM users");
  }
  // status active expires in 2099; expired ones lapsed three days ago (reserved, not yet released).
  std::string rental(const std::string& user_id, const std::string& status) {
    auto expires = status == "expired" ? "DATE_SUB(" + now + ", INTERVAL 3 DAY)" : std::string("'2099-01-01'");
    c.db.execute("INSERT INTO rentals (user_id, plan_id, plan_name, duration_days, traffic_quota_bytes, "
                 "device_limit, replicas, regions, status, starts_at, expires_at, created_at, updated_at) VALUES (" +
                 user_id + ", 1, 'p', 30, 0, 5, 1, '', '" + status + "', " + now + ", " + expires + ", " + now +
                 ", " + now + ")");
    return c.db.scalar("SELECT MAX(id) FROM rentals");
  }
  void allocation(const std::string& node_id, const std::string& rental_id, int port, const std::string& state,
                  bool released = false) {
    c.db.execute("INSERT INTO allocations (rental_id, node_id, port, public_host, cert_pem, cert_key_sealed, cert_pin, "
                 "cert_expires_at, state, created_at, updated_at, released_at) VALUES (" +
                 (rental_id.empty() ? std::string("NULL") : rental_id) + ", " + node_id + ", " +
                 std::to_string(port) + ", '10.8.0.1', 'x', 'x', 'sha256-raw:x', '2099-01-01', '" + state + "', " +
                 now + ", " + now + ", " + (released ? now : "NULL") + ")");
  }
};

}  // namespace

TEST_CASE("regions show their nodes, online count, allocations, customers and capacity used") {
  controller_fixture c("regions");
  browser ops(c.base_url(), test_origin);
  sign_in_admin(c, ops, "operator");
  seeded s{c};
  auto t1 = s.node(unique_name("t1"), "tokyo", 10, true, true);
  auto t2 = s.node(unique_name("t2"), "tokyo", 10, true, false);   // silent: not online
  auto gone = s.node(unique_name("t3"), "tokyo", 50, true, false, true);  // deleted: not counted
  auto o1 = s.node(unique_name("o1"), "osaka", 5, true, true);
  auto o2 = s.node(unique_name("o2"), "osaka", 5, false, false);  // not enrolled yet
  auto u1 = s.user();
  auto u2 = s.user();
  auto u3 = s.user();
  auto r1 = s.rental(u1, "active");
  auto r2 = s.rental(u1, "active");
  auto r3 = s.rental(u2, "expired");
  auto r4 = s.rental(u3, "active");
  auto r5 = s.rental(u3, "active");
  s.allocation(t1, r1, 30000, "running");
  s.allocation(t1, r2, 30001, "running");
  s.allocation(t1, r3, 30002, "reserved");  // holds its port and capacity for a renewal
  s.allocation(t1, "", 30003, "running");   // made by hand: no customer
  s.allocation(t1, r4, 30004, "running", true);  // released: gone
  s.allocation(t2, r1, 30000, "running");
  s.allocation(gone, r4, 30000, "running", true);
  s.allocation(o1, r2, 30000, "running");
  s.allocation(o1, r5, 30001, "running");

  auto r = ops.get("/api/v1/admin/regions");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto items = json_of(r).at("items").as_array();
  REQUIRE(items.size() == 2);
  std::map<std::string, boost::json::object> by_region;
  for (const auto& item : items) {
    by_region[std::string(item.at("region").as_string())] = item.as_object();
  }
  CHECK(items[0].at("region") == "osaka");  // by name

  // tokyo: t1 (4 live: r1, r2, r3 reserved, one by hand) + t2 (r1) = 5 of 20; rentals r1, r2, r3; users u1, u2.
  auto& tokyo = by_region.at("tokyo");
  CHECK(tokyo.at("node_count") == 2);
  CHECK(tokyo.at("online_count") == 1);
  CHECK(tokyo.at("allocations") == 5);
  CHECK(tokyo.at("capacity") == 20);
  CHECK(tokyo.at("capacity_used").as_double() == doctest::Approx(0.25));
  CHECK(tokyo.at("rentals") == 3);
  CHECK(tokyo.at("customers") == 2);
  CHECK(tokyo.at("bandwidth_bps") == 0);
  auto tokyo_nodes = tokyo.at("nodes").as_array();
  REQUIRE(tokyo_nodes.size() == 2);
  CHECK(std::to_string(tokyo_nodes[0].at("id").as_int64()) == t1);
  CHECK(tokyo_nodes[0].at("online") == true);
  CHECK(tokyo_nodes[0].at("allocations") == 4);
  CHECK(std::to_string(tokyo_nodes[1].at("id").as_int64()) == t2);
  CHECK(tokyo_nodes[1].at("online") == false);
  CHECK(tokyo_nodes[1].at("status") == "reconnecting");  // silent within the controller's restart grace

  // osaka: o1 (r2, r5) = 2 of 10; rentals r2, r5; users u1, u3.
  auto& osaka = by_region.at("osaka");
  CHECK(osaka.at("node_count") == 2);
  CHECK(osaka.at("online_count") == 1);
  CHECK(osaka.at("allocations") == 2);
  CHECK(osaka.at("capacity") == 10);
  CHECK(osaka.at("capacity_used").as_double() == doctest::Approx(0.2));
  CHECK(osaka.at("rentals") == 2);
  CHECK(osaka.at("customers") == 2);
  auto osaka_nodes = osaka.at("nodes").as_array();
  REQUIRE(osaka_nodes.size() == 2);
  CHECK(std::to_string(osaka_nodes[1].at("id").as_int64()) == o2);
  CHECK(osaka_nodes[1].at("status") == "pending");

  // Past the grace the silent node is offline and still not online.
  c.clk->advance(121s);
  auto later = json_of(ops.get("/api/v1/admin/regions")).at("items").as_array();
  CHECK(later[1].at("nodes").as_array()[1].at("status") == "offline");
  CHECK(later[1].at("nodes").as_array()[0].at("status") == "offline");  // t1 not heard for 121 s either

  browser support(c.base_url(), test_origin);
  sign_in_admin(c, support, "support");
  CHECK(support.get("/api/v1/admin/regions").status == 200);
  browser finance(c.base_url(), test_origin);
  sign_in_admin(c, finance, "finance");
  CHECK(finance.get("/api/v1/admin/regions").status == 403);
}
