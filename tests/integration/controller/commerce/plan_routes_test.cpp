#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "tests/support/api_helpers.hpp"
#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

const std::string monthly =
    R"({"name":"Monthly","duration_days":30,"traffic_quota_bytes":107374182400,"device_limit":5,)"
    R"("price_cents":2900,"regions":["cn-east","jp"]})";

}  // namespace

TEST_CASE("admins create, list and edit plans; customers see only active ones") {
  controller_fixture c("plans");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "admin");
  auto created = admin.post("/api/v1/admin/plans", monthly);
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto plan = json_of(created);
  CHECK(plan.at("replicas") == 3);
  CHECK(plan.at("currency") == "CNY");
  CHECK(plan.at("bandwidth_mbps").is_null());
  CHECK(plan.at("regions").as_array().size() == 2);
  auto id = std::to_string(plan.at("id").as_int64());
  CHECK(admin.post("/api/v1/admin/plans", monthly).status == 409);

  auto retired = admin.send("PUT", "/api/v1/admin/plans/" + id,
                            R"({"name":"Monthly","duration_days":30,"traffic_quota_bytes":0,"device_limit":5,)"
                            R"("price_cents":3900,"active":false})");
  REQUIRE_MESSAGE(retired.status == 200, retired.body);
  CHECK(json_of(retired).at("price_cents") == 3900);
  CHECK(json_of(admin.get("/api/v1/admin/plans")).at("items").as_array().size() == 1);
  auto visible = get(c.base_url() + "/api/v1/plans");
  CHECK(visible.status == 200);
  CHECK(json_of(visible).at("items").as_array().empty());
  CHECK(admin.get("/api/v1/admin/plans/999999").status == 404);
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'plan.%'") == "2");
}

TEST_CASE("plan input is validated field by field and writes need plans:write") {
  controller_fixture c("planval");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "admin");
  auto zero_days = admin.post("/api/v1/admin/plans", R"({"name":"X","duration_days":0,"traffic_quota_bytes":1,)"
                                                     R"("device_limit":1,"price_cents":1})");
  CHECK(zero_days.status == 400);
  CHECK(error_field(zero_days) == "duration_days");
  auto negative = admin.post("/api/v1/admin/plans", R"({"name":"X","duration_days":3,"traffic_quota_bytes":1,)"
                                                    R"("device_limit":1,"price_cents":-5})");
  CHECK(error_field(negative) == "price_cents");
  auto region = admin.post("/api/v1/admin/plans", R"({"name":"X","duration_days":3,"traffic_quota_bytes":1,)"
                                                  R"("device_limit":1,"price_cents":5,"regions":["Bad Region"]})");
  CHECK(error_field(region) == "regions");
  auto missing = admin.post("/api/v1/admin/plans", R"({"duration_days":3})");
  CHECK(error_field(missing) == "name");

  browser finance(c.base_url(), test_origin);
  sign_in_admin(c, finance, "finance");
  CHECK(finance.get("/api/v1/admin/plans").status == 200);
  CHECK(finance.post("/api/v1/admin/plans", monthly).status == 403);
}
