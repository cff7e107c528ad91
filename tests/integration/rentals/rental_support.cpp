#include "tests/integration/rentals/rental_support.hpp"

#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <sstream>

#include "tests/support/api_helpers.hpp"
#include "tests/support/test_env.hpp"

namespace derpmgr::test::rentals {

using namespace fleet;
using namespace std::chrono_literals;

node_with_agent add_node(fleet_controller& fc, const std::string& name, const std::string& ip,
                         const std::string& region) {
  int base = random_port_base();
  boost::json::object body{{"name", name},        {"region", region},      {"public_ipv4", ip},
                           {"bind_ip", ip},       {"port_min", base},      {"port_max", base + 19},
                           {"capacity", 10}};
  auto r = fc.admin.post("/api/v1/admin/nodes", boost::json::serialize(body));
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto node = json_of(r);
  node_with_agent n{node.at("id").as_int64(), ip, std::make_unique<agent_process>(name)};
  auto [code, out] = n.agent->enroll(fc.c.agents_url(),
                                     std::string(node.at("enrollment").as_object().at("token").as_string()));
  REQUIRE_MESSAGE(code == 0, out);
  n.agent->start();
  REQUIRE(wait_until([&] { return fc.node(n.id).at("status").as_string() == "online"; }, 20s));
  return n;
}

std::vector<std::string> serials(fleet_controller& fc, int count) {
  auto plan = fc.admin.post("/api/v1/admin/plans",
                            R"({"name":")" + unique_name("three") + R"(","duration_days":3,"traffic_quota_bytes":0,)"
                            R"("device_limit":5,"price_cents":300})");
  REQUIRE_MESSAGE(plan.status == 201, plan.body);
  auto batch = fc.admin.post("/api/v1/admin/serials/batches",
                             "{\"plan_id\":" + std::to_string(json_of(plan).at("id").as_int64()) +
                                 ",\"count\":" + std::to_string(count) + "}");
  REQUIRE_MESSAGE(batch.status == 201, batch.body);
  std::vector<std::string> out;
  auto body = json_of(batch);
  for (const auto& c : body.at("codes").as_array()) {
    out.emplace_back(c.as_string());
  }
  return out;
}

std::vector<placed> allocations_of(fleet_controller& fc, const std::string& rental_id) {
  std::vector<placed> out;
  auto rows = fc.c.db.scalar(
      "SELECT GROUP_CONCAT(CONCAT_WS(' ', id, node_id, port, public_host, cert_pin, state) ORDER BY id SEPARATOR "
      "'\\n') FROM allocations WHERE released_at IS NULL AND state <> 'released' AND rental_id = " + rental_id);
  std::istringstream lines(rows);
  placed p;
  while (lines >> p.id >> p.node_id >> p.port >> p.host >> p.pin >> p.state) {
    out.push_back(p);
  }
  return out;
}

std::string rental_field(fleet_controller& fc, const std::string& field) {
  return fc.c.db.scalar("SELECT " + field + " FROM rentals ORDER BY id DESC LIMIT 1");
}

cleanup::~cleanup() {
  for (auto id : nodes) {
    remove_node_containers(id);
  }
}

}  // namespace derpmgr::test::rentals
