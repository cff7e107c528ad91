#include <doctest/doctest.h>

#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

const char* rental_row =
    "SELECT CONCAT_WS('|', plan_id, plan_name, duration_days, traffic_quota_bytes, device_limit, "
    "IFNULL(bandwidth_mbps, 'none'), replicas, regions, status, starts_at, expires_at) FROM rentals";
const char* order_row =
    "SELECT CONCAT_WS('|', number, plan_id, rental_id, source, kind, amount_cents, status, added_days, "
    "added_quota_bytes, created_at) FROM orders";

}  // namespace

TEST_CASE("editing a plan leaves sold rentals and their orders unchanged") {
  controller_fixture c("soldterms");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":"Quarter","duration_days":90,"traffic_quota_bytes":5000,)"
                                                R"("device_limit":3,"bandwidth_mbps":100,"price_cents":4900,)"
                                                R"("regions":["jp"]})");
  REQUIRE_MESSAGE(plan.status == 201, plan.body);
  auto plan_id = std::to_string(json_of(plan).at("id").as_int64());
  auto batch = admin.post("/api/v1/admin/serials/batches", R"({"plan_id":)" + plan_id + R"(,"count":1})");
  REQUIRE(batch.status == 201);
  auto code = std::string(json_of(batch).at("codes").as_array()[0].as_string());
  browser buyer(c.base_url(), test_origin);
  sign_in_customer(buyer, unique_name("buyer") + "@example.com");
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + code + R"("})").status == 200);

  auto rental_before = c.db.scalar(rental_row);
  auto order_before = c.db.scalar(order_row);
  REQUIRE(rental_before.find("|Quarter|90|5000|3|100|3|jp|pending|") != std::string::npos);
  REQUIRE(order_before.find("|serial|new|4900|completed|90|5000|") != std::string::npos);

  c.clk->advance(std::chrono::minutes(1));
  auto edited = admin.send("PUT", "/api/v1/admin/plans/" + plan_id,
                           R"({"name":"Quarter plus","duration_days":5,"traffic_quota_bytes":1,"device_limit":1,)"
                           R"("bandwidth_mbps":null,"price_cents":99,"replicas":1,"regions":["us"],"active":false})");
  REQUIRE_MESSAGE(edited.status == 200, edited.body);
  CHECK(json_of(edited).at("duration_days") == 5);
  CHECK(c.db.scalar("SELECT price_cents FROM plans WHERE id = " + plan_id) == "99");

  CHECK(c.db.scalar(rental_row) == rental_before);
  CHECK(c.db.scalar(order_row) == order_before);
  auto mine = json_of(buyer.get("/api/v1/me/orders")).at("items").as_array();
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].at("amount_cents") == 4900);
}
