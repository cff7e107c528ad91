// Admins who manage nodes get one reminder per paid-until date, a week before it.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;

namespace {

std::string date_in(const controller_fixture& c, int days) {
  return format_sql_datetime(c.clk->now() + std::chrono::hours(24 * days)).substr(0, 10);
}

}  // namespace

TEST_CASE("a node's paid-until date sends one reminder per date to the admins who manage nodes") {
  fleet_controller fc;
  auto operator_email = unique_name("ops") + "@example.com";
  auto finance_email = unique_name("fin") + "@example.com";
  fc.c.create_admin(operator_email, "operator passphrase long", "operator");
  fc.c.create_admin(finance_email, "finance passphrase long", "finance");
  int base = random_port_base();
  auto soon = fc.create_node(unique_name("pay-soon"), "127.0.0.2", base, base + 9);
  auto later = fc.create_node(unique_name("pay-later"), "127.0.0.2", base + 10, base + 19);
  auto soon_name = std::string(soon.at("name").as_string());
  auto later_name = std::string(later.at("name").as_string());
  auto patch = [&](std::int64_t id, const std::string& date) {
    auto r = fc.admin.send("PATCH", "/api/v1/admin/nodes/" + std::to_string(id),
                           "{\"paid_until\":\"" + date + "\"}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
  };
  patch(soon.at("id").as_int64(), date_in(fc.c, 5));
  patch(later.at("id").as_int64(), date_in(fc.c, 30));

  fc.c.app->run_jobs_now();
  REQUIRE(wait_for_mail(services::from_env().mail_dir, operator_email, soon_name));
  CHECK(count_mail(services::from_env().mail_dir, operator_email, soon_name) == 1);
  CHECK(count_mail(services::from_env().mail_dir, operator_email, later_name) == 0);
  CHECK(count_mail(services::from_env().mail_dir, finance_email, soon_name) == 0);  // finance does not manage nodes

  fc.c.app->run_jobs_now();
  std::this_thread::sleep_for(1s);
  CHECK(count_mail(services::from_env().mail_dir, operator_email, soon_name) == 1);

  // Paid again, for a date that is in turn a week away: one new reminder.
  patch(soon.at("id").as_int64(), date_in(fc.c, 6));
  fc.c.app->run_jobs_now();
  CHECK(wait_until([&] { return count_mail(services::from_env().mail_dir, operator_email, soon_name) == 2; }, 15s));
}
