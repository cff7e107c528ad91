#include <doctest/doctest.h>

#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

struct batch {
  std::string plan_id;
  std::string id;
  std::vector<std::string> codes;
};

batch make_batch(browser& admin, const std::string& name, int count) {
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":")" + name + R"(","duration_days":30,)"
                                                R"("traffic_quota_bytes":1000,"device_limit":5,"price_cents":990})");
  REQUIRE(plan.status == 201);
  batch b;
  b.plan_id = std::to_string(json_of(plan).at("id").as_int64());
  auto created = admin.post("/api/v1/admin/serials/batches",
                            R"({"plan_id":)" + b.plan_id + R"(,"count":)" + std::to_string(count) + "}");
  REQUIRE(created.status == 201);
  auto answer = json_of(created);
  b.id = std::to_string(answer.at("batch_id").as_int64());
  for (const auto& c : answer.at("codes").as_array()) {
    b.codes.emplace_back(c.as_string());
  }
  return b;
}

std::size_t count_items(browser& admin, const std::string& query) {
  auto r = admin.get("/api/v1/admin/serials" + query);
  REQUIRE_MESSAGE(r.status == 200, query << " " << r.body);
  return json_of(r).at("items").as_array().size();
}

}  // namespace

TEST_CASE("serials filter by plan, batch, status and redeemer; one unused code can be revoked, a redeemed one not") {
  controller_fixture c("serialadm");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto a = make_batch(admin, "Alpha", 3);
  auto b = make_batch(admin, "Beta", 2);
  browser buyer(c.base_url(), test_origin);
  auto email = unique_name("buyer") + "@example.com";
  auto user_id = std::to_string(sign_in_customer(buyer, email));
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + a.codes[0] + R"("})").status == 200);

  CHECK(count_items(admin, "?plan_id=" + a.plan_id) == 3);
  CHECK(count_items(admin, "?plan_id=" + b.plan_id) == 2);
  CHECK(count_items(admin, "?batch_id=" + b.id + "&plan_id=" + a.plan_id) == 0);
  CHECK(count_items(admin, "?redeemer=" + user_id) == 1);
  CHECK(count_items(admin, "?redeemer=" + email) == 1);
  CHECK(count_items(admin, "?redeemer=" + email + "&plan_id=" + b.plan_id) == 0);
  CHECK(count_items(admin, "?redeemer=nobody@example.com") == 0);
  CHECK(count_items(admin, "?status=unused&plan_id=" + a.plan_id) == 2);
  CHECK(admin.get("/api/v1/admin/serials?redeemer=not%20an%20address").status == 400);

  auto redeemed_id = std::to_string(
      json_of(admin.get("/api/v1/admin/serials?redeemer=" + user_id)).at("items").as_array()[0].at("id").as_int64());
  auto refused = admin.post("/api/v1/admin/serials/" + redeemed_id + "/revoke", "{}");
  CHECK(refused.status == 409);
  CHECK(error_code(refused) == "serial_redeemed");

  // The newest unused code of batch A is a.codes[2]; revoke it and only it.
  auto unused = json_of(admin.get("/api/v1/admin/serials?status=unused&batch_id=" + a.id)).at("items").as_array();
  REQUIRE(unused.size() == 2);
  auto target = std::to_string(unused[0].at("id").as_int64());
  auto revoked = admin.post("/api/v1/admin/serials/" + target + "/revoke", "{}");
  REQUIRE_MESSAGE(revoked.status == 200, revoked.body);
  CHECK(json_of(revoked).at("status") == "revoked");
  auto twice = admin.post("/api/v1/admin/serials/" + target + "/revoke", "{}");
  CHECK(twice.status == 409);
  CHECK(error_code(twice) == "serial_already_revoked");
  CHECK(admin.post("/api/v1/admin/serials/99999999/revoke", "{}").status == 404);
  CHECK(count_items(admin, "?status=revoked") == 1);
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'serial.revoked' AND target = 'serial:" + target +
                    "'") == "1");

  // Exactly one of the two remaining codes was revoked; the other still redeems.
  auto first = buyer.post("/api/v1/me/redeem", R"({"serial":")" + a.codes[1] + R"("})");
  auto second = buyer.post("/api/v1/me/redeem", R"({"serial":")" + a.codes[2] + R"("})");
  CHECK(((first.status == 200 && second.status == 410) || (first.status == 410 && second.status == 200)));

  auto batches = admin.get("/api/v1/admin/serials/batches?plan_id=" + a.plan_id);
  REQUIRE_MESSAGE(batches.status == 200, batches.body);
  auto items = json_of(batches).at("items").as_array();
  REQUIRE(items.size() == 1);
  CHECK(items[0].at("redeemed") == 2);
  CHECK(items[0].at("revoked") == 1);
  CHECK(items[0].at("unused") == 0);
  CHECK(json_of(admin.get("/api/v1/admin/serials/batches")).at("items").as_array().size() == 2);

  browser support(c.base_url(), test_origin);
  sign_in_admin(c, support, "support");  // serials:read but not serials:write
  CHECK(support.get("/api/v1/admin/serials/batches").status == 200);
  CHECK(support.post("/api/v1/admin/serials/" + redeemed_id + "/revoke", "{}").status == 403);
}
