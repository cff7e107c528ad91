#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "controller/app/app_services.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/fleet/allocation_repository.hpp"
#include "controller/fleet/node_repository.hpp"
#include "shared/protocol/messages.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

// Every item of a paginated history, following next_cursor.
std::vector<boost::json::object> all_pages(browser& b, const std::string& path, int limit, int& pages) {
  std::vector<boost::json::object> items;
  std::string cursor;
  pages = 0;
  for (;;) {
    auto r = b.get(path + "?limit=" + std::to_string(limit) + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    ++pages;
    auto page = json_of(r);
    for (const auto& item : page.at("items").as_array()) {
      items.push_back(item.as_object());
    }
    if (page.at("next_cursor").is_null()) {
      return items;
    }
    cursor = std::string(page.at("next_cursor").as_string());
    REQUIRE(pages < 100);
  }
}

}  // namespace

TEST_CASE("a customer's history lists orders and rental events newest first, page by page") {
  controller_fixture c("history");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":"Days","duration_days":3,)"
                                                R"("traffic_quota_bytes":10,"device_limit":2,"price_cents":300})");
  REQUIRE(plan.status == 201);
  auto plan_id = std::to_string(json_of(plan).at("id").as_int64());
  browser buyer(c.base_url(), test_origin);
  auto user_id = std::to_string(sign_in_customer(buyer, unique_name("buyer") + "@example.com"));
  REQUIRE(admin.post("/api/v1/admin/users/" + user_id + "/balance", R"({"amount_cents":900,"reason":"paid"})")
              .status == 200);
  for (int i = 0; i < 3; ++i) {
    c.clk->advance(std::chrono::seconds(30));
    REQUIRE(buyer.post("/api/v1/me/renew", R"({"plan_id":)" + plan_id + "}").status == 200);
  }
  auto newest_order = c.db.scalar("SELECT MAX(id) FROM orders");
  REQUIRE(admin.post("/api/v1/admin/orders/" + newest_order + "/refund", R"({"reason":"asked"})").status == 200);

  int pages = 0;
  auto items = all_pages(buyer, "/api/v1/me/history", 3, pages);  // a page ends between a purchase's two items
  CHECK(pages == 2);
  REQUIRE(items.size() == 6);  // three orders and three rental events, no repeats across pages
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    seen.insert(std::string(items[i].at("type").as_string()) + std::to_string(items[i].at("id").as_int64()));
    if (i > 0) {
      CHECK(items[i - 1].at("at").as_string() >= items[i].at("at").as_string());
    }
  }
  CHECK(seen.size() == 6);
  CHECK(items[0].at("type") == "rental_event");  // the newest purchase: its rental event, then its order
  CHECK(items[0].at("reason") == "renewed by balance");
  CHECK(items[1].at("type") == "order");
  CHECK(items[1].at("status") == "refunded");
  CHECK(items[1].at("amount_cents") == 300);
  CHECK(items[1].at("currency") == "CNY");
  CHECK(items[5].at("type") == "order");
  CHECK(items[5].at("kind") == "new");
  CHECK(items[4].at("from_status").is_null());  // the first event started the rental
  CHECK(items[4].at("to_status") == "pending");

  auto as_admin = all_pages(admin, "/api/v1/admin/users/" + user_id + "/history", 50, pages);
  CHECK(pages == 1);
  REQUIRE(as_admin.size() == 6);
  CHECK(as_admin[1].at("id") == items[1].at("id"));
  CHECK(admin.get("/api/v1/admin/users/99999999/history").status == 404);
  CHECK(buyer.get("/api/v1/me/history?cursor=bogus").status == 400);

  // Another customer sees only their own, and customers cannot use the admin view.
  browser other(c.base_url(), test_origin);
  sign_in_customer(other, unique_name("other") + "@example.com");
  CHECK(json_of(other.get("/api/v1/me/history")).at("items").as_array().empty());
  CHECK(other.get("/api/v1/admin/users/" + user_id + "/history").status == 401);
  browser operator_admin(c.base_url(), test_origin);
  sign_in_admin(c, operator_admin, "operator");  // users:read but no orders:read
  CHECK(operator_admin.get("/api/v1/admin/users/" + user_id + "/history").status == 403);
}

namespace {

// Nodes that placement takes as online (no agent behind them): enrolled, with a session and a fresh last_seen.
void add_fake_nodes(controller_fixture& c) {
  auto now = format_sql_datetime(c.clk->now());
  for (int i = 1; i <= 3; ++i) {
    auto n = std::to_string(i);
    c.db.execute("INSERT INTO nodes (name, region, public_ipv4, port_min, port_max, capacity, enrolled_at, "
                 "session_replica, last_seen_at, created_at, updated_at) VALUES ('hist-node-" + n + "', 'region-" + n +
                 "', '10.9.2." + n + "', 3" + n + "000, 3" + n + "099, 10, '" + now + "', 'test', '" + now + "', '" +
                 now + "', '" + now + "')");
  }
}

void nodes_seen_now(controller_fixture& c) {
  c.db.execute("UPDATE nodes SET last_seen_at = '" + format_sql_datetime(c.clk->now()) + "'");
}

// What each node's agent would report after converging: the status that confirms released containers are gone.
void agents_report(controller_fixture& c) {
  auto& pool = c.app->services().pool;
  auto now = c.clk->now();
  pool.run_blocking(
      [now](sql::Connection& conn) {
        for (const auto& node : controller::fleet::node_repository::list(conn)) {
          protocol::status st;
          st.generation = static_cast<std::int64_t>(node.desired_generation);
          controller::fleet::allocation_repository::record_status(conn, node.id, st, now);
        }
      },
      true);
}

// "<node name> <region> <address> <port> <released?>" of each allocation item, and of the database's rows.
std::multiset<std::string> allocation_lines(const std::vector<boost::json::object>& items) {
  std::multiset<std::string> out;
  for (const auto& item : items) {
    if (item.at("type") == "allocation") {
      CHECK(item.at("created_at") == item.at("at"));
      out.insert(std::string(item.at("node_name").as_string()) + " " + std::string(item.at("region").as_string()) +
                 " " + std::string(item.at("address").as_string()) + " " +
                 std::to_string(item.at("port").as_int64()) + " " +
                 (item.at("released_at").is_null() ? "live" : "released"));
    }
  }
  return out;
}

std::multiset<std::string> allocation_rows(controller_fixture& c, const std::string& rental) {
  auto rows = c.db.scalar(
      "SELECT GROUP_CONCAT(CONCAT_WS(' ', n.name, n.region, a.public_host, a.port, IF(a.released_at IS NULL, 'live', "
      "'released')) SEPARATOR ',') FROM allocations a JOIN nodes n ON n.id = a.node_id WHERE a.rental_id = " + rental);
  std::multiset<std::string> out;
  std::stringstream ss(rows);
  std::string line;
  while (std::getline(ss, line, ',')) {
    out.insert(line);
  }
  return out;
}

std::vector<std::string> keys_of(const std::vector<boost::json::object>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    out.push_back(std::string(item.at("type").as_string()) + ":" + std::to_string(item.at("id").as_int64()));
  }
  return out;
}

}  // namespace

TEST_CASE("history lists every server a customer's rentals had, after the rental ends and after the account goes") {
  controller_fixture c("histalloc");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  add_fake_nodes(c);
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":"Three","duration_days":3,)"
                                                R"("traffic_quota_bytes":0,"device_limit":2,"price_cents":300})");
  REQUIRE(plan.status == 201);
  auto plan_id = std::to_string(json_of(plan).at("id").as_int64());
  browser buyer(c.base_url(), test_origin);
  auto email = unique_name("servers") + "@example.com";
  auto user_id = std::to_string(sign_in_customer(buyer, email));
  REQUIRE(admin.post("/api/v1/admin/users/" + user_id + "/balance", R"({"amount_cents":600,"reason":"paid"})")
              .status == 200);

  // First period: placed on the three nodes, then cancelled and, past the reservation window, released.
  REQUIRE(buyer.post("/api/v1/me/renew", R"({"plan_id":)" + plan_id + "}").status == 200);
  auto rental = c.db.scalar("SELECT id FROM rentals WHERE user_id = " + user_id);
  c.app->run_jobs_now();
  REQUIRE(c.db.scalar("SELECT status FROM rentals WHERE id = " + rental) == "active");
  REQUIRE(c.db.scalar("SELECT COUNT(*) FROM allocations WHERE rental_id = " + rental) == "3");

  int pages = 0;
  auto placed = all_pages(buyer, "/api/v1/me/history", 50, pages);
  auto first_servers = allocation_lines(placed);
  CHECK(first_servers.size() == 3);
  CHECK(first_servers == allocation_rows(c, rental));
  for (int i = 1; i <= 3; ++i) {  // one server on each node, each with its node's name and region
    auto n = std::to_string(i);
    CHECK(std::count_if(first_servers.begin(), first_servers.end(), [&](const std::string& line) {
            return line.rfind("hist-node-" + n + " region-" + n + " 10.9.2." + n + " 3" + n + "0", 0) == 0;
          }) == 1);
  }

  REQUIRE(admin.post("/api/v1/admin/rentals/" + rental + "/cancel", R"({"reason":"refund"})").status == 200);
  c.clk->advance(std::chrono::hours(24 * 11));
  nodes_seen_now(c);
  c.app->run_jobs_now();
  // Released: the ports wait for the agents' confirmation.
  CHECK(c.db.scalar("SELECT COUNT(*) FROM allocations WHERE rental_id = " + rental + " AND state = 'released' AND "
                    "released_at IS NULL") == "3");
  agents_report(c);
  REQUIRE(c.db.scalar("SELECT COUNT(*) FROM allocations WHERE rental_id = " + rental + " AND released_at IS NOT NULL") ==
          "3");

  // Second period on the same rental: three new servers next to the three released ones. The sessions have
  // expired over the eleven days: everyone signs in again.
  c.clk->advance(std::chrono::minutes(5));
  nodes_seen_now(c);
  REQUIRE(buyer.post("/api/v1/auth/login", R"({"email":")" + email + R"(","password":"customer passphrase"})")
              .status == 200);
  browser later_admin(c.base_url(), test_origin);
  sign_in_admin(c, later_admin, "owner");
  REQUIRE(buyer.post("/api/v1/me/renew", R"({"plan_id":)" + plan_id + "}").status == 200);
  c.app->run_jobs_now();
  REQUIRE(c.db.scalar("SELECT COUNT(*) FROM allocations WHERE rental_id = " + rental + " AND released_at IS NULL") ==
          "3");

  auto whole = all_pages(buyer, "/api/v1/me/history", 200, pages);
  CHECK(pages == 1);
  auto servers = allocation_lines(whole);
  CHECK(servers.size() == 6);
  CHECK(servers == allocation_rows(c, rental));
  CHECK(std::count_if(servers.begin(), servers.end(),
                      [](const std::string& line) { return line.ends_with(" released"); }) == 3);
  std::set<std::string> types;
  for (const auto& item : whole) {
    types.insert(std::string(item.at("type").as_string()));
  }
  CHECK(types == std::set<std::string>{"allocation", "order", "rental_event"});
  // A released server carries its release time, after its creation.
  for (const auto& item : whole) {
    if (item.at("type") == "allocation" && !item.at("released_at").is_null()) {
      CHECK(item.at("released_at").as_string() > item.at("created_at").as_string());
    }
  }

  // Paging through the mixed list (placement writes its servers and the rental event at the same instant, so pages
  // end inside runs of equal times) returns exactly the same items in the same order, each once.
  for (int limit : {1, 2, 5}) {
    auto paged = all_pages(buyer, "/api/v1/me/history", limit, pages);
    CHECK(keys_of(paged) == keys_of(whole));
    auto keys = keys_of(paged);
    CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == keys.size());
  }
  for (std::size_t i = 1; i < whole.size(); ++i) {
    CHECK(whole[i - 1].at("at").as_string() >= whole[i].at("at").as_string());
  }

  // Another customer sees none of them.
  browser other(c.base_url(), test_origin);
  sign_in_customer(other, unique_name("nobody") + "@example.com");
  CHECK(json_of(other.get("/api/v1/me/history")).at("items").as_array().empty());

  // The account is deleted: the admin view still lists every server, page by page.
  REQUIRE(later_admin.send("DELETE", "/api/v1/admin/users/" + user_id, "").status == 200);
  REQUIRE(c.db.scalar("SELECT status FROM users WHERE id = " + user_id) == "deleted");
  CHECK(buyer.get("/api/v1/me/history").status == 401);
  auto kept = all_pages(later_admin, "/api/v1/admin/users/" + user_id + "/history", 3, pages);
  CHECK(keys_of(kept) == keys_of(whole));
  CHECK(allocation_lines(kept) == servers);
}
