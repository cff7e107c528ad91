// Expiry reminders: 7, 3 and 1 days before and at expiry, each sent once per paid-until date.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/api_helpers.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace std::chrono_literals;

TEST_CASE("expiry reminders go out once each: 7, 3 and 1 days before, then at expiry") {
  controller_fixture c("remind");
  browser admin(c.base_url(), test_origin);
  sign_in_admin(c, admin, "owner");
  auto plan = admin.post("/api/v1/admin/plans", R"({"name":"Month","duration_days":30,"traffic_quota_bytes":0,)"
                                                R"("device_limit":3,"price_cents":3000})");
  REQUIRE(plan.status == 201);
  auto batch = admin.post("/api/v1/admin/serials/batches",
                          "{\"plan_id\":" + std::to_string(json_of(plan).at("id").as_int64()) + ",\"count\":1}");
  REQUIRE(batch.status == 201);
  auto body = json_of(batch);
  auto code = std::string(body.at("codes").as_array()[0].as_string());
  browser buyer(c.base_url(), test_origin);
  auto email = unique_name("remind") + "@example.com";
  sign_in_customer(buyer, email);
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + code + R"("})").status == 200);

  auto mail_dir = services::from_env().mail_dir;
  auto step = [&](std::chrono::hours by) {
    c.clk->advance(by);
    c.app->run_jobs_now();
    c.app->run_jobs_now();  // twice: nothing is sent twice
  };
  c.app->run_jobs_now();
  std::this_thread::sleep_for(1s);
  CHECK(count_mail(services::from_env().mail_dir, email, "expire") == 0);  // 30 days left

  step(std::chrono::hours(24 * 23 + 1));  // 6 days 23 h left
  REQUIRE(wait_for_mail(mail_dir, email, "7 day(s) from now"));
  step(std::chrono::hours(24 * 4));  // 2 days 23 h left
  REQUIRE(wait_for_mail(mail_dir, email, "3 day(s) from now"));
  step(std::chrono::hours(24 * 2));  // 23 h left
  REQUIRE(wait_for_mail(mail_dir, email, "1 day(s) from now"));
  step(std::chrono::hours(24));  // expired an hour ago
  REQUIRE(wait_for_mail(mail_dir, email, "expired at"));
  CHECK(c.db.scalar("SELECT status FROM rentals") == "expired");
  std::this_thread::sleep_for(2s);
  CHECK(count_mail(services::from_env().mail_dir, email, "from now. Renew") == 3);
  CHECK(count_mail(services::from_env().mail_dir, email, "expired at") == 1);
  CHECK(c.db.scalar("SELECT COUNT(*) FROM rental_reminders") == "4");
}
