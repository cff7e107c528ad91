#include <doctest/doctest.h>

#include <set>

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
    REQUIRE(pages < 20);
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
