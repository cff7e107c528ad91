// Agent benchmark (not part of ctest): the resident memory and CPU of a real derpmgr-agent process managing 100
// derper containers (the stand-in image), idle and while it reconciles. The controller runs in-process on the test
// MariaDB; the agent is the binary of the same build. Run it with bench/run_agent.sh; see bench/README.md.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "bench/proc_stats.hpp"
#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/api_helpers.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

using steady = std::chrono::steady_clock;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

double seconds_since(steady::time_point start) { return std::chrono::duration<double>(steady::now() - start).count(); }

// Removes the node's containers however the benchmark ends.
struct container_cleanup {
  std::int64_t node_id = 0;
  ~container_cleanup() {
    if (node_id != 0) {
      remove_node_containers(node_id);
    }
  }
};

std::size_t running_count(std::int64_t node_id) {
  std::size_t running = 0;
  for (const auto& [name, state] : node_containers(node_id)) {
    running += state == "running" ? 1 : 0;
  }
  return running;
}

// The node's containers are exactly `names`, all running.
bool runs_exactly(std::int64_t node_id, const std::set<std::string>& names) {
  auto containers = node_containers(node_id);
  if (containers.size() != names.size()) {
    return false;
  }
  for (const auto& [name, state] : containers) {
    if (state != "running" || !names.contains(name)) {
      return false;
    }
  }
  return true;
}

// The agent reported the node's current desired generation back (it applied every change).
bool generation_applied(fleet_controller& fc, std::int64_t node_id) {
  return fc.c.db.scalar("SELECT desired_generation = applied_generation FROM nodes WHERE id = " +
                        std::to_string(node_id)) == "1";
}

std::string container_name(std::int64_t node, std::int64_t allocation) {
  return "derpmgr-" + std::to_string(node) + "-" + std::to_string(allocation);
}

void report(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

TEST_CASE("bench: agent memory and CPU while managing containers") {
  const int count = env_int("DERPMGR_BENCH_CONTAINERS", 100);
  const int idle_seconds = env_int("DERPMGR_BENCH_IDLE_SECONDS", 60);
  const int recreate = std::min(env_int("DERPMGR_BENCH_RECREATE", 10), count);
  const auto converge_timeout = std::chrono::seconds(env_int("DERPMGR_BENCH_CONVERGE_TIMEOUT", 1800));

  fleet_controller fc;
  std::random_device rd;
  const std::string ip = "127.0.0." + std::to_string(100 + rd() % 100);
  const int base = random_port_base();
  json::object body{{"name", unique_name("bench-agent")}, {"region", "test"}, {"public_ipv4", ip},
                    {"bind_ip", ip}, {"port_min", base}, {"port_max", base + count + recreate - 1},
                    {"capacity", count + recreate}, {"provider", "loopback"}};
  auto created = fc.admin.post("/api/v1/admin/nodes", json::serialize(body));
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto node = json_of(created);
  const std::int64_t node_id = node.at("id").as_int64();
  container_cleanup cleanup{node_id};

  agent_process agent("bench");
  // agent_process logs at debug level for the tests; a production agent logs at info.
  {
    auto path = agent.state_dir() / "agent.toml";
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("\"debug\""), 7, "\"info\"");
    std::ofstream(path) << text;
  }
  auto [code, out] =
      agent.enroll(fc.c.agents_url(), std::string(node.at("enrollment").as_object().at("token").as_string()));
  REQUIRE_MESSAGE(code == 0, out);
  agent.start();
  REQUIRE(wait_until([&] { return fc.node(node_id).at("status").as_string() == "online"; }, 30s));
  auto fresh = bench::sample_process(agent.pid());
  report("agent: connected, no containers: RSS " + std::to_string(fresh.rss_kib) + " KiB, " +
         std::to_string(fresh.threads) + " threads");
  report(bench::describe("agent, connected, no containers, 10 s", bench::sample_for(agent.pid(), 10s)));

  // Converge to `count` containers.
  std::vector<std::int64_t> allocations;
  std::set<std::string> names;
  auto start = steady::now();
  bench::background_sampler converging(agent.pid());
  for (int i = 0; i < count; ++i) {
    auto a = fc.create_allocation(node_id, {random_node_key()});
    allocations.push_back(a.at("id").as_int64());
    names.insert(container_name(node_id, allocations.back()));
  }
  std::size_t last_seen = 0;
  bool converged = wait_until(
      [&] {
        auto running = running_count(node_id);
        if (running / 10 != last_seen / 10) {
          std::printf("agent: %zu/%d running after %.0f s\n", running, count, seconds_since(start));
          std::fflush(stdout);
        }
        last_seen = running;
        return runs_exactly(node_id, names) && generation_applied(fc, node_id);
      },
      converge_timeout);
  auto converge_stats = converging.stop();
  REQUIRE_MESSAGE(converged, agent.log().substr(agent.log().size() > 4000 ? agent.log().size() - 4000 : 0));
  char line[256];
  std::snprintf(line, sizeof line, "agent: %d containers created and running in %.1f s", count, seconds_since(start));
  report(line);
  report(bench::describe("agent, creating " + std::to_string(count) + " containers", converge_stats));

  std::this_thread::sleep_for(10s);  // let the last status round trips settle
  report(bench::describe("agent, idle with " + std::to_string(count) + " containers",
                         bench::sample_for(agent.pid(), std::chrono::seconds(idle_seconds))));

  // New allowed keys for every allocation: deltas for the admission table, no container changes.
  start = steady::now();
  bench::background_sampler rekeying(agent.pid());
  for (auto id : allocations) {
    json::array keys{json::value(random_node_key()), json::value(random_node_key())};
    auto r = fc.admin.send("PUT", "/api/v1/admin/allocations/" + std::to_string(id) + "/keys",
                           json::serialize(json::object{{"allowed_keys", keys}}));
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
  REQUIRE(wait_until([&] { return generation_applied(fc, node_id) && runs_exactly(node_id, names); }, 120s));
  std::snprintf(line, sizeof line, "agent: new keys for %d allocations applied in %.1f s", count,
                seconds_since(start));
  report(line);
  report(bench::describe("agent, re-keying " + std::to_string(count) + " allocations", rekeying.stop()));

  // Replace `recreate` allocations: containers removed and created.
  start = steady::now();
  bench::background_sampler replacing(agent.pid());
  for (int i = 0; i < recreate; ++i) {
    auto id = allocations[static_cast<std::size_t>(i)];
    auto r = fc.admin.send("DELETE", "/api/v1/admin/allocations/" + std::to_string(id), "");
    REQUIRE_MESSAGE(r.status == 204, r.body);
    names.erase(container_name(node_id, id));
    auto a = fc.create_allocation(node_id, {random_node_key()});
    allocations[static_cast<std::size_t>(i)] = a.at("id").as_int64();
    names.insert(container_name(node_id, a.at("id").as_int64()));
  }
  REQUIRE(wait_until([&] { return runs_exactly(node_id, names) && generation_applied(fc, node_id); },
                     converge_timeout));
  std::snprintf(line, sizeof line, "agent: %d allocations replaced (containers removed and created) in %.1f s",
                recreate, seconds_since(start));
  report(line);
  report(bench::describe("agent, replacing " + std::to_string(recreate) + " containers", replacing.stop()));

  std::this_thread::sleep_for(5s);
  report(bench::describe("agent, idle again", bench::sample_for(agent.pid(), 30s)));
  agent.terminate();
}
