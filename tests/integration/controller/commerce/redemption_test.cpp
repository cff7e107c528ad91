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

std::vector<std::string> make_codes(browser& admin, int count, int days = 30) {
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":")" + unique_name("plan") + R"(","duration_days":)" +
                                                    std::to_string(days) +
                                                    R"(,"traffic_quota_bytes":1000,"device_limit":5,"price_cents":990})");
  REQUIRE(plan.status == 201);
  auto plan_id = std::to_string(json_of(plan).at("id").as_int64());
  auto batch = admin.post("/api/v1/admin/serials/batches",
                          R"({"plan_id":)" + plan_id + R"(,"count":)" + std::to_string(count) + "}");
  REQUIRE_MESSAGE(batch.status == 201, batch.body);
  auto answer = json_of(batch);
  std::vector<std::string> codes;
  for (const auto& c : answer.at("codes").as_array()) {
    codes.emplace_back(c.as_string());
  }
  codes.push_back(std::to_string(answer.at("batch_id").as_int64()));  // last: the batch id
  return codes;
}

}  // namespace

TEST_CASE("100 concurrent redemptions of one serial: exactly one wins") {
  controller_fixture c("redeem");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto codes = make_codes(admin, 1);
  auto code = codes[0];

  std::vector<std::unique_ptr<browser>> customers;
  for (int i = 0; i < 4; ++i) {
    customers.push_back(std::make_unique<browser>(c.base_url(), test_origin));
    sign_in_customer(*customers.back(), unique_name("buyer") + "@example.com");
  }
  std::vector<std::future<long>> results;
  for (int i = 0; i < 100; ++i) {
    auto* b = customers[static_cast<std::size_t>(i) % customers.size()].get();
    results.push_back(std::async(std::launch::async, [b, code] {
      return b->post("/api/v1/me/redeem", R"({"serial":")" + code + R"("})").status;
    }));
  }
  int won = 0;
  int used = 0;
  int limited = 0;
  for (auto& f : results) {
    auto status = f.get();
    won += status == 200 ? 1 : 0;
    used += status == 409 ? 1 : 0;
    limited += status == 429 ? 1 : 0;  // the per-customer redemption limiter may answer first
  }
  CHECK(won == 1);
  CHECK(used > 0);
  CHECK(won + used + limited == 100);  // every other request got a clear refusal
  CHECK(c.db.scalar("SELECT COUNT(*) FROM orders") == "1");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM rentals") == "1");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM serials WHERE status = 'redeemed'") == "1");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'serial.redeemed'") == "1");
}

TEST_CASE("typos, revoked batches and reuse each get their own error; renewal moves the expiry once") {
  controller_fixture c("serials");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto codes = make_codes(admin, 3, 30);
  auto batch_id = codes.back();
  browser b(c.base_url(), test_origin);
  sign_in_customer(b, unique_name("buyer") + "@example.com");

  auto typo = codes[0];
  typo[7] = typo[7] == 'A' ? 'B' : 'A';
  auto bad = b.post("/api/v1/me/redeem", R"({"serial":")" + typo + R"("})");
  CHECK(bad.status == 400);
  CHECK(error_code(bad) == "invalid_serial");

  auto first = b.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})");
  REQUIRE_MESSAGE(first.status == 200, first.body);
  CHECK(json_of(first).at("kind") == "new");
  auto again = b.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})");
  CHECK(again.status == 409);
  CHECK(error_code(again) == "serial_used");

  auto second = b.post("/api/v1/me/redeem", R"({"serial":")" + codes[1] + R"("})");
  REQUIRE(second.status == 200);
  CHECK(json_of(second).at("kind") == "renewal");
  CHECK(c.db.scalar("SELECT DATEDIFF(expires_at, starts_at) FROM rentals") == "60");
  CHECK(c.db.scalar("SELECT traffic_quota_bytes FROM rentals") == "2000");

  auto revoked = admin.post("/api/v1/admin/serials/batches/" + batch_id + "/revoke", "{}");
  REQUIRE(revoked.status == 200);
  CHECK(json_of(revoked).at("revoked") == 1);
  auto dead = b.post("/api/v1/me/redeem", R"({"serial":")" + codes[2] + R"("})");
  CHECK(dead.status == 410);
  CHECK(error_code(dead) == "serial_revoked");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM redemption_attempts") == "5");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM serials WHERE code_sealed LIKE '%" + codes[1].substr(5, 5) + "%'") == "0");
}

TEST_CASE("unverified customers cannot redeem") {
  controller_fixture c("unverified");
  browser b(c.base_url(), test_origin);
  auto email = unique_name("new") + "@example.com";
  std::string body = R"({"email":")" + email + R"(","password":"customer passphrase"})";
  REQUIRE(b.post("/api/v1/auth/register", body).status == 201);
  REQUIRE(b.post("/api/v1/auth/login", body).status == 200);
  auto r = b.post("/api/v1/me/redeem", R"({"serial":"DERP-00000-00000-00000-00000-00"})");
  CHECK(r.status == 403);
  CHECK(error_code(r) == "email_not_verified");
}

TEST_CASE("serial lists show only the last four characters; owners re-export unredeemed codes") {
  controller_fixture c("export");
  browser owner(c.base_url(), test_origin);
  sign_in_admin(c, owner, "owner");
  auto codes = make_codes(owner, 3);
  auto batch_id = codes.back();
  browser b(c.base_url(), test_origin);
  sign_in_customer(b, unique_name("buyer") + "@example.com");
  REQUIRE(b.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})").status == 200);

  auto list = owner.get("/api/v1/admin/serials?batch_id=" + batch_id);
  REQUIRE(list.status == 200);
  CHECK(json_of(list).at("items").as_array().size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(list.body.find(codes[static_cast<std::size_t>(i)].substr(5, 11)) == std::string::npos);
  }
  auto redeemed = owner.get("/api/v1/admin/serials?status=redeemed&batch_id=" + batch_id);
  CHECK(json_of(redeemed).at("items").as_array().size() == 1);
  CHECK(owner.get("/api/v1/admin/serials?status=bogus").status == 400);

  auto text = owner.get("/api/v1/admin/serials/batches/" + batch_id + "/export?format=text");
  REQUIRE(text.status == 200);
  CHECK(text.body == codes[1] + "\n" + codes[2] + "\n");
  auto csv = owner.get("/api/v1/admin/serials/batches/" + batch_id + "/export?format=csv");
  CHECK(csv.body.rfind("code,batch_id\r\n", 0) == 0);
  CHECK(csv.headers["content-disposition"] == "attachment; filename=\"serials-batch-" + batch_id + ".csv\"");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'serials.exported'") == "2");
}
