// Allocations reach agents and become derper containers (the stand-in image) that answer over TLS with their
// pinned certificate and admit exactly their keys; agents survive kill -9, a container killed behind their back,
// and a controller outage.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/process.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;

namespace {

struct test_node {
  std::int64_t id = 0;
  std::string ip;
  std::unique_ptr<agent_process> agent;
};

test_node enrolled_node(fleet_controller& fc, const std::string& name, const std::string& ip) {
  int base = random_port_base();
  auto node = fc.create_node(name, ip, base, base + 19);
  test_node n{node.at("id").as_int64(), ip, std::make_unique<agent_process>(name)};
  auto [code, out] = n.agent->enroll(fc.c.agents_url(),
                                     std::string(node.at("enrollment").as_object().at("token").as_string()));
  REQUIRE_MESSAGE(code == 0, out);
  n.agent->start();
  return n;
}

bool all_running(std::int64_t node_id, std::size_t count) {
  auto containers = node_containers(node_id);
  std::set<std::string> names;
  for (const auto& [name, state] : containers) {
    if (state != "running") {
      return false;
    }
    names.insert(name);
  }
  return containers.size() == count && names.size() == count;
}

std::string container_name(std::int64_t node, std::int64_t allocation) {
  return "derpmgr-" + std::to_string(node) + "-" + std::to_string(allocation);
}

struct cleanup {
  std::vector<std::int64_t> nodes;
  ~cleanup() {
    for (auto id : nodes) {
      remove_node_containers(id);
    }
  }
};

}  // namespace

TEST_CASE("allocations on two nodes converge, serve their pinned certificates and admit exactly their keys") {
  fleet_controller fc;
  cleanup done;
  auto n1 = enrolled_node(fc, "conv-1", "127.0.0.2");
  auto n2 = enrolled_node(fc, "conv-2", "127.0.0.3");
  done.nodes = {n1.id, n2.id};
  auto k1 = random_node_key();
  auto k2 = random_node_key();
  auto a1 = fc.create_allocation(n1.id, {k1});
  auto a2 = fc.create_allocation(n1.id, {k2});
  auto b1 = fc.create_allocation(n2.id, {k1});

  REQUIRE_MESSAGE(wait_until([&] { return all_running(n1.id, 2) && all_running(n2.id, 1); }, 60s),
                  (n1.agent->log() + n2.agent->log()));
  // The controller hears that they run.
  CHECK(wait_until([&] { return fc.node(n1.id).at("allocations_running").as_int64() == 2; }, 20s));

  for (auto [alloc, ip] : {std::pair{&a1, n1.ip}, std::pair{&a2, n1.ip}, std::pair{&b1, n2.ip}}) {
    auto port = static_cast<int>(alloc->at("port").as_int64());
    probe_result p;
    CHECK(wait_until([&] { p = probe(ip, port); return p.status == 200; }, 10s));
    CHECK(p.pin == alloc->at("cert_pin").as_string());
  }
  auto a1_port = static_cast<int>(a1.at("port").as_int64());
  auto a2_port = static_cast<int>(a2.at("port").as_int64());
  auto b1_port = static_cast<int>(b1.at("port").as_int64());
  CHECK(derp_upgrade(n1.ip, a1_port, k1) == 101);
  CHECK(derp_upgrade(n1.ip, a1_port, k2) == 403);
  CHECK(derp_upgrade(n1.ip, a2_port, k2) == 101);
  CHECK(derp_upgrade(n2.ip, b1_port, k1) == 101);
  CHECK(derp_upgrade(n2.ip, b1_port, k2) == 403);
  CHECK(derp_upgrade(n2.ip, b1_port, random_node_key()) == 403);

  SUBCASE("new keys apply without restarting the container; a released allocation's container goes") {
    auto before = run_command("docker inspect -f '{{.Id}}' " + container_name(n1.id, a1.at("id").as_int64())).output;
    auto keys = fc.admin.send("PUT", "/api/v1/admin/allocations/" + std::to_string(a1.at("id").as_int64()) + "/keys",
                              "{\"allowed_keys\":[\"" + k2 + "\"]}");
    REQUIRE(keys.status == 200);
    CHECK(wait_until([&] { return derp_upgrade(n1.ip, a1_port, k2) == 101; }, 10s));
    CHECK(derp_upgrade(n1.ip, a1_port, k1) == 403);
    auto after = run_command("docker inspect -f '{{.Id}}' " + container_name(n1.id, a1.at("id").as_int64())).output;
    CHECK(before == after);

    auto gone = fc.admin.send("DELETE", "/api/v1/admin/allocations/" + std::to_string(a2.at("id").as_int64()), "");
    REQUIRE(gone.status == 204);
    CHECK(wait_until([&] { return all_running(n1.id, 1); }, 20s));
  }

  SUBCASE("a container killed behind the agent's back is restarted") {
    auto name = container_name(n2.id, b1.at("id").as_int64());
    REQUIRE(run_command("docker kill " + name).exit_code == 0);
    CHECK(wait_until([&] { return all_running(n2.id, 1) && probe(n2.ip, b1_port).status == 200; }, 30s));
  }

  SUBCASE("kill -9 in the middle of converging, then restart: no duplicate, no orphan") {
    fc.create_allocation(n1.id, {k1});
    fc.create_allocation(n1.id, {k2});
    // Let the agent get the change and start creating, then kill it.
    wait_until([&] { return node_containers(n1.id).size() > 2; }, 10s);
    n1.agent->kill9();
    auto released = fc.admin.send("DELETE", "/api/v1/admin/allocations/" + std::to_string(a2.at("id").as_int64()), "");
    REQUIRE(released.status == 204);
    n1.agent->start();
    CHECK_MESSAGE(wait_until([&] { return all_running(n1.id, 3); }, 60s), n1.agent->log());
    CHECK(wait_until([&] {
      auto names = node_containers(n1.id);
      return std::none_of(names.begin(), names.end(), [&](const auto& c) {
        return c.first == container_name(n1.id, a2.at("id").as_int64());
      });
    }, 10s));
  }

  SUBCASE("with the controller away containers keep running and admission keeps answering; agents come back") {
    auto agents_port = fc.c.app->agents_port();
    fc.c.app->stop();
    std::this_thread::sleep_for(3s);
    CHECK(all_running(n1.id, 2));
    CHECK(derp_upgrade(n1.ip, a1_port, k1) == 101);
    CHECK(derp_upgrade(n1.ip, a1_port, k2) == 403);

    // Restarting an agent without its controller: it converges from its persisted desired state.
    n2.agent->kill9();
    remove_node_containers(n2.id);
    n2.agent->start();
    CHECK_MESSAGE(wait_until([&] { return all_running(n2.id, 1); }, 30s), n2.agent->log());
    CHECK(wait_until([&] { return derp_upgrade(n2.ip, b1_port, k1) == 101; }, 10s));

    fleet_controller back(fc, "127.0.0.1:" + std::to_string(agents_port));
    auto status = [&](std::int64_t id) {
      auto r = back.admin.get("/api/v1/admin/nodes/" + std::to_string(id));
      return r.status == 200 ? std::string(json_of(r).at("status").as_string()) : std::string();
    };
    CHECK_MESSAGE(wait_until([&] { return status(n1.id) == "online" && status(n2.id) == "online"; }, 60s),
                  n1.agent->log());
  }
  n1.agent->terminate();
  n2.agent->terminate();
}

TEST_CASE("two replicas on one database: an allocation made on A reaches an agent connected to B") {
  fleet_controller a;
  fleet_controller b(a);
  cleanup done;
  int base = random_port_base();
  auto node = a.create_node("replicas", "127.0.0.4", base, base + 9);
  auto node_id = node.at("id").as_int64();
  done.nodes = {node_id};
  agent_process agent("replicas");
  auto [code, out] = agent.enroll(a.c.agents_url(),
                                  std::string(node.at("enrollment").as_object().at("token").as_string()));
  REQUIRE_MESSAGE(code == 0, out);
  agent.start(b.c.agents_url());
  REQUIRE(wait_until([&] { return b.node(node_id).at("status").as_string() == "online"; }, 20s));
  CHECK(a.c.db.scalar("SELECT session_replica FROM nodes WHERE id = " + std::to_string(node_id)) ==
        b.c.app->replica_id());

  auto alloc = a.create_allocation(node_id, {random_node_key()});
  CHECK_MESSAGE(wait_until([&] { return all_running(node_id, 1); }, 30s), agent.log());
  CHECK(wait_until([&] {
    return probe("127.0.0.4", static_cast<int>(alloc.at("port").as_int64())).pin == alloc.at("cert_pin").as_string();
  }, 10s));
  agent.terminate();
}
