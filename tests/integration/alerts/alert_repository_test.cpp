// Two replicas raising the same alert at once: the unique key on open alerts lets exactly one insert win.
#include "controller/alerts/alert_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <doctest/doctest.h>

#include <future>

#include "tests/support/controller_fixture.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::controller::alerts;
using namespace std::chrono_literals;

TEST_CASE("concurrent raises of one alert leave one open alert; after it is resolved a new one may be raised") {
  controller_fixture c("alertrace");
  auto a = c.db.connect();
  auto b = c.db.connect();
  a->setAutoCommit(false);
  b->setAutoCommit(false);
  new_alert alert{{"node_offline", "node", 77}, "critical", "node x is offline"};
  auto now = c.clk->now();

  auto first = alert_repository::raise(*a, alert, now);
  REQUIRE(first);
  // b waits on a's uncommitted row in the unique key, then sees it committed: a duplicate, so no second alert.
  auto* driver = get_driver_instance();  // created already, by the fixture's connections
  auto second = std::async(std::launch::async, [&] {
    driver->threadInit();
    auto id = alert_repository::raise(*b, alert, now);
    driver->threadEnd();
    return id;
  });
  CHECK(second.wait_for(500ms) == std::future_status::timeout);
  a->commit();
  CHECK_FALSE(second.get());
  b->commit();
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts") == "1");
  CHECK(alert_repository::open_subjects(*a, "node_offline", "node") == std::set<std::uint64_t>{77});

  CHECK(alert_repository::resolve(*a, alert.key, now + 1min));
  CHECK_FALSE(alert_repository::resolve(*a, alert.key, now + 1min));  // nothing open any more
  auto again = alert_repository::raise(*a, alert, now + 2min);
  REQUIRE(again);
  CHECK(*again != *first);
  a->commit();
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts") == "2");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL") == "1");
}
