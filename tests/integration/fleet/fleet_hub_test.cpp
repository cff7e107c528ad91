// The fleet hub's view of the nodes, with a refresh interval long enough that only refresh_soon() can explain a
// change being seen: sessions of nodes whose desired generation grew are woken, others are left alone, and a
// deleted node's session is closed.
#include "controller/fleet/fleet_hub.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/schema_with_io.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace std::chrono_literals;

namespace {

// What the hub asked of a session.
class recording_session final : public controller::fleet::live_session {
 public:
  void close_soon(std::string reason) override {
    std::lock_guard lock(mutex_);
    closes_.push_back(std::move(reason));
  }
  void wake() override { ++wakes_; }

  int wakes() const { return wakes_; }
  std::vector<std::string> closes() const {
    std::lock_guard lock(mutex_);
    return closes_;
  }

 private:
  std::atomic<int> wakes_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> closes_;
};

std::uint64_t insert_node(const test_database& db, const std::string& name) {
  db.execute("INSERT INTO nodes (name, region, port_min, port_max, capacity, created_at, updated_at) VALUES ('" +
             name + "', 'test', 20000, 20009, 10, '2030-01-01', '2030-01-01')");
  return std::stoull(db.scalar("SELECT id FROM nodes WHERE name = '" + name + "'"));
}

}  // namespace

TEST_CASE("the fleet hub wakes the sessions of nodes whose desired generation grew, at once on refresh_soon") {
  schema_with_io<controller::fleet::fleet_hub> f("hub");
  auto a = insert_node(f.db, "hub-a");
  auto b = insert_node(f.db, "hub-b");
  // A refresh interval of a minute: within this test only refresh_soon() makes the hub read the database again.
  f.subject = std::make_unique<controller::fleet::fleet_hub>(f.ioc, *f.pool, f.clk, "replica-hub", 60s);
  auto& hub = *f.subject;
  f.run_io();
  hub.start();
  auto session_a = std::make_shared<recording_session>();
  auto session_b = std::make_shared<recording_session>();
  hub.attach(a, session_a);
  hub.attach(b, session_b);
  auto start_a = hub.generation_of(a);
  auto start_b = hub.generation_of(b);
  REQUIRE(start_a.has_value());
  REQUIRE(start_b.has_value());

  // Nothing changed: a refresh wakes nobody.
  hub.refresh_soon();
  std::this_thread::sleep_for(500ms);
  CHECK(session_a->wakes() == 0);
  CHECK(session_b->wakes() == 0);

  // A change committed elsewhere is not seen before the next refresh...
  f.db.execute("UPDATE nodes SET desired_generation = desired_generation + 1 WHERE id = " + std::to_string(a));
  std::this_thread::sleep_for(1500ms);
  CHECK(hub.generation_of(a) == start_a);
  CHECK(session_a->wakes() == 0);
  // ...and refresh_soon() brings it in at once, waking only that node's session.
  auto asked = std::chrono::steady_clock::now();
  hub.refresh_soon();
  REQUIRE(fleet::wait_until([&] { return session_a->wakes() == 1; }, 5s));
  CHECK(std::chrono::steady_clock::now() - asked < 2s);
  CHECK(hub.generation_of(a) == *start_a + 1);
  CHECK(session_b->wakes() == 0);
  CHECK(session_a->closes().empty());

  // Two changes on b before one refresh: one wake. A deleted node's session is closed, not woken.
  f.db.execute("UPDATE nodes SET desired_generation = desired_generation + 2 WHERE id = " + std::to_string(b));
  hub.refresh_soon();
  REQUIRE(fleet::wait_until([&] { return session_b->wakes() == 1; }, 5s));
  CHECK(hub.generation_of(b) == *start_b + 2);
  f.db.execute("UPDATE nodes SET deleted_at = '2030-01-01' WHERE id = " + std::to_string(a));
  hub.refresh_soon();
  REQUIRE(fleet::wait_until([&] { return !session_a->closes().empty(); }, 5s));
  CHECK(session_a->closes() == std::vector<std::string>{std::string(controller::fleet::fleet_hub::node_deleted)});
  CHECK(session_a->wakes() == 1);
  CHECK(!hub.generation_of(a).has_value());
  hub.stop();
}
