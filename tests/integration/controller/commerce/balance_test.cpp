#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <future>
#include <vector>

#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

}  // namespace

TEST_CASE("50 concurrent balance purchases never overdraw and the ledger matches the balance") {
  controller_fixture c("balance");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":"Three days","duration_days":3,)"
                                                R"("traffic_quota_bytes":10,"device_limit":2,"price_cents":300})");
  REQUIRE(plan.status == 201);
  auto plan_id = std::to_string(json_of(plan).at("id").as_int64());

  browser buyer(c.base_url(), test_origin);
  auto user_id = std::to_string(sign_in_customer(buyer, unique_name("buyer") + "@example.com"));
  auto broke = buyer.post("/api/v1/me/renew", R"({"plan_id":)" + plan_id + "}");
  CHECK(broke.status == 402);
  auto topup = admin.post("/api/v1/admin/users/" + user_id + "/balance", R"({"amount_cents":1000,"reason":"paid"})");
  REQUIRE_MESSAGE(topup.status == 200, topup.body);
  CHECK(json_of(topup).at("balance_cents") == 1000);
  auto overdraw = admin.post("/api/v1/admin/users/" + user_id + "/balance",
                             R"({"amount_cents":-5000,"reason":"mistake"})");
  CHECK(overdraw.status == 409);

  std::vector<std::future<long>> results;
  for (int i = 0; i < 50; ++i) {
    results.push_back(std::async(std::launch::async, [&buyer, plan_id] {
      return buyer.post("/api/v1/me/renew", R"({"plan_id":)" + plan_id + "}").status;
    }));
  }
  int bought = 0;
  for (auto& f : results) {
    bought += f.get() == 200 ? 1 : 0;
  }
  CHECK(bought == 3);
  CHECK(c.db.scalar("SELECT balance_cents FROM users WHERE id = " + user_id) == "100");
  CHECK(c.db.scalar("SELECT SUM(amount_cents) FROM balance_entries WHERE user_id = " + user_id) == "100");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM orders WHERE source = 'balance' AND status = 'completed'") == "3");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM rentals") == "1");  // concurrent first purchases share one rental
  CHECK(c.db.scalar("SELECT DATEDIFF(expires_at, starts_at) FROM rentals") == "9");  // 3 × 3 days, each once

  browser finance(c.base_url(), test_origin);
  sign_in_admin(c, finance, "support");
  CHECK(finance.post("/api/v1/admin/users/" + user_id + "/balance", R"({"amount_cents":1,"reason":"x"})").status ==
        403);
  auto ledger = admin.get("/api/v1/admin/users/" + user_id + "/balance");
  REQUIRE(ledger.status == 200);
  CHECK(json_of(ledger).at("items").as_array().size() == 4);
}

TEST_CASE("refunding a balance order returns the money and takes back its time, never before now") {
  controller_fixture c("refund");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":"Month","duration_days":30,)"
                                                R"("traffic_quota_bytes":100,"device_limit":2,"price_cents":500})");
  REQUIRE(plan.status == 201);
  auto plan_id = std::to_string(json_of(plan).at("id").as_int64());
  browser buyer(c.base_url(), test_origin);
  auto user_id = std::to_string(sign_in_customer(buyer, unique_name("buyer") + "@example.com"));
  REQUIRE(admin.post("/api/v1/admin/users/" + user_id + "/balance", R"({"amount_cents":1000,"reason":"paid"})")
              .status == 200);
  REQUIRE(buyer.post("/api/v1/me/renew", R"({"plan_id":)" + plan_id + "}").status == 200);
  REQUIRE(buyer.post("/api/v1/me/renew", R"({"plan_id":)" + plan_id + "}").status == 200);
  CHECK(c.db.scalar("SELECT DATEDIFF(expires_at, starts_at) FROM rentals") == "60");

  auto mine = buyer.get("/api/v1/me/orders");
  REQUIRE(mine.status == 200);
  auto items = json_of(mine).at("items").as_array();
  REQUIRE(items.size() == 2);
  auto newest = std::to_string(items[0].at("id").as_int64());
  auto listed = admin.get("/api/v1/admin/orders?source=balance&user_id=" + user_id + "&limit=1");
  REQUIRE(listed.status == 200);
  CHECK(json_of(listed).at("items").as_array().size() == 1);
  CHECK_FALSE(json_of(listed).at("next_cursor").is_null());

  auto refunded = admin.post("/api/v1/admin/orders/" + newest + "/refund", R"({"reason":"customer asked"})");
  REQUIRE_MESSAGE(refunded.status == 200, refunded.body);
  CHECK(c.db.scalar("SELECT balance_cents FROM users WHERE id = " + user_id) == "500");
  CHECK(c.db.scalar("SELECT SUM(amount_cents) FROM balance_entries WHERE user_id = " + user_id) == "500");
  CHECK(c.db.scalar("SELECT DATEDIFF(expires_at, starts_at) FROM rentals") == "30");
  CHECK(c.db.scalar("SELECT traffic_quota_bytes FROM rentals") == "100");
  CHECK(admin.post("/api/v1/admin/orders/" + newest + "/refund", R"({"reason":"again"})").status == 409);

  // Taking back more time than is left stops at now.
  c.clk->advance(std::chrono::minutes(10));
  auto oldest = std::to_string(items[1].at("id").as_int64());
  REQUIRE(admin.post("/api/v1/admin/orders/" + oldest + "/cancel", R"({"reason":"fraud"})").status == 200);
  CHECK(c.db.scalar("SELECT expires_at FROM rentals") == format_sql_datetime(c.clk->now()));
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('order.refunded', 'order.cancelled')") == "2");
}
