#include "controller/fleet/node_liveness.hpp"

#include <doctest/doctest.h>

#include "controller/fleet/node_repository.hpp"

using namespace derpmgr;
using namespace derpmgr::controller::fleet;
using namespace std::chrono_literals;

namespace {

const time_point started{std::chrono::hours(500'000)};

liveness_policy policy() { return liveness_policy{45s, 120s, started}; }

node_row enrolled(time_point at) {
  node_row n;
  n.id = 7;
  n.enrolled_at = at;
  return n;
}

}  // namespace

TEST_CASE("a node that never enrolled is pending, whatever else it says") {
  node_row n;
  CHECK(policy().of(n, started) == node_liveness::pending);
  CHECK(policy().of(n, started + 1h) == node_liveness::pending);
  n.session_replica = "r1";
  n.last_seen_at = started + 1h;
  CHECK(policy().of(n, started + 1h) == node_liveness::pending);
  CHECK(std::string(to_string(node_liveness::pending)) == "pending");
}

TEST_CASE("a node with a live session heard within 45 s is online, and offline once silent for 45 s") {
  auto now = started + 10min;  // well past the restart grace
  auto n = enrolled(started - 1h);
  n.session_replica = "replica-a";
  n.last_seen_at = now - 1s;
  CHECK(policy().of(n, now) == node_liveness::online);
  n.last_seen_at = now - 44s;
  CHECK(policy().of(n, now) == node_liveness::online);
  n.last_seen_at = now - 45s;
  CHECK(policy().of(n, now) == node_liveness::offline);
  n.last_seen_at = now - 1h;
  CHECK(policy().of(n, now) == node_liveness::offline);
  CHECK(std::string(to_string(node_liveness::online)) == "online");
  CHECK(std::string(to_string(node_liveness::offline)) == "offline");
}

TEST_CASE("a stale session_replica (a replica that died holding the session) does not keep a node online") {
  auto now = started + 10min;
  auto n = enrolled(started - 1h);
  n.session_replica = "crashed-replica";
  n.last_seen_at = now - 5min;
  CHECK(policy().of(n, now) == node_liveness::offline);
  n.last_seen_at.reset();
  CHECK(policy().of(n, now) == node_liveness::offline);
}

TEST_CASE("without a session a node is offline even when it was heard a moment ago") {
  auto now = started + 10min;
  auto n = enrolled(started - 1h);
  n.last_seen_at = now - 1s;
  CHECK(policy().of(n, now) == node_liveness::offline);
}

TEST_CASE("within the restart grace a silent node is reconnecting, not offline") {
  auto n = enrolled(started - 1h);
  n.session_replica = "old-process";
  n.last_seen_at = started - 50s;  // last heard by the previous controller process
  CHECK(policy().of(n, started) == node_liveness::reconnecting);
  CHECK(policy().of(n, started + 60s) == node_liveness::reconnecting);
  CHECK(policy().of(n, started + 119s) == node_liveness::reconnecting);
  CHECK(policy().of(n, started + 120s) == node_liveness::offline);
  CHECK(std::string(to_string(node_liveness::reconnecting)) == "reconnecting");

  SUBCASE("a node that reconnects during the grace is online at once") {
    n.session_replica = "this-process";
    n.last_seen_at = started + 20s;
    CHECK(policy().of(n, started + 21s) == node_liveness::online);
  }
  SUBCASE("no grace configured: silent nodes are offline right away") {
    liveness_policy none{45s, 0s, started};
    CHECK(none.of(n, started) == node_liveness::offline);
  }
}
