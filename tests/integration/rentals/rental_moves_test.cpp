// Servers that change hosts: an admin moving one by hand, a node deleted with servers on it (drained first, or at
// once with force), ports held until the agent confirms a container is gone, and a customer's preferred regions.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <set>

#include "tests/integration/rentals/rental_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace derpmgr::test::rentals;
using namespace std::chrono_literals;

namespace {

std::string move_body(std::int64_t node_id) { return "{\"node_id\":" + std::to_string(node_id) + "}"; }

std::string path_of(std::int64_t allocation_id) {
  return "/api/v1/admin/allocations/" + std::to_string(allocation_id) + "/move";
}

bool has_node(const std::vector<placed>& all, std::int64_t node_id) {
  return std::any_of(all.begin(), all.end(), [&](const placed& p) { return p.node_id == node_id; });
}

}  // namespace

TEST_CASE("preferred regions steer placement, and an admin moves one server to another node") {
  fleet_controller fc;
  cleanup done;
  auto a = add_node(fc, unique_name("ma"), "127.0.0.2", "tokyo");
  auto b = add_node(fc, unique_name("mb"), "127.0.0.3", "osaka");
  auto c = add_node(fc, unique_name("mc"), "127.0.0.4", "seoul");
  auto d = add_node(fc, unique_name("md"), "127.0.0.5", "taipei");
  done.nodes = {a.id, b.id, c.id, d.id};
  auto codes = serials(fc, 1);
  browser buyer(fc.c.base_url(), test_origin);
  auto email = unique_name("prefers") + "@example.com";
  sign_in_customer(buyer, email);

  // Bad preferences are refused, naming the field; nothing is stored.
  for (const char* bad : {R"({"regions":"taipei"})", R"({"regions":["taipei","taipei"]})",
                          R"({"regions":["a","b","c","d","e","f"]})", R"({"regions":[7]})", R"({})"}) {
    auto r = buyer.send("PUT", "/api/v1/me/preferred-regions", bad);
    CHECK_MESSAGE(r.status == 400, bad);
    CHECK(error_field(r) == "regions");
  }
  auto unknown = buyer.send("PUT", "/api/v1/me/preferred-regions", R"({"regions":["atlantis"]})");
  CHECK(unknown.status == 400);
  CHECK(error_code(unknown) == "unknown_region");
  auto offered = buyer.get("/api/v1/me/preferred-regions");
  REQUIRE(offered.status == 200);
  CHECK(json_of(offered).at("regions").as_array().empty());
  CHECK(json_of(offered).at("available").as_array().size() >= 4);

  // Four empty nodes in four regions: without a preference the three lowest ids would win; taipei is the fourth.
  auto set = buyer.send("PUT", "/api/v1/me/preferred-regions", R"({"regions":["taipei"]})");
  REQUIRE_MESSAGE(set.status == 200, set.body);
  CHECK(boost::json::serialize(json_of(buyer.get("/api/v1/me/preferred-regions")).at("regions")) == R"(["taipei"])");
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})").status == 200);
  auto rental = rental_field(fc, "id");
  REQUIRE(wait_until([&] { return rental_field(fc, "status") == "active"; }, 15s));
  auto first = allocations_of(fc, rental);
  REQUIRE(first.size() == 3);
  CHECK(has_node(first, d.id));
  CHECK(!has_node(first, c.id));

  // Move the taipei server to seoul, the one node the rental does not use.
  auto on_d = *std::find_if(first.begin(), first.end(), [&](const placed& p) { return p.node_id == d.id; });
  auto on_a = *std::find_if(first.begin(), first.end(), [&](const placed& p) { return p.node_id == a.id; });
  CHECK(fc.admin.post(path_of(on_d.id), move_body(d.id)).status == 409);               // already there
  CHECK(error_code(fc.admin.post(path_of(on_d.id), move_body(a.id))) == "same_host");  // the rental is on a
  CHECK(fc.admin.post(path_of(999999999), move_body(c.id)).status == 404);
  auto no_node = fc.admin.post(path_of(on_d.id), move_body(999999999));
  CHECK(no_node.status == 404);
  CHECK(error_field(no_node) == "node_id");
  auto no_field = fc.admin.post(path_of(on_d.id), "{}");
  CHECK(no_field.status == 400);
  CHECK(error_field(no_field) == "node_id");

  auto moved = fc.admin.post(path_of(on_d.id), move_body(c.id));
  REQUIRE_MESSAGE(moved.status == 201, moved.body);
  auto replacement = json_of(moved);
  CHECK(replacement.at("node_id").as_int64() == c.id);
  CHECK(replacement.at("public_host") == "127.0.0.4");
  CHECK(std::string(replacement.at("cert_pin").as_string()) != on_d.pin);
  CHECK(error_code(fc.admin.post(path_of(on_d.id), move_body(c.id))) == "already_moving");
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'allocation.moved' AND target = 'allocation:" +
                       std::to_string(on_d.id) + "'") == "1");

  // The replacement answers with its own pin; then the old server is released and its container removed.
  auto port = static_cast<int>(replacement.at("port").as_int64());
  probe_result r;
  CHECK(wait_until([&] { r = probe("127.0.0.4", port); return r.status == 200; }, 60s));
  CHECK(r.pin == std::string(replacement.at("cert_pin").as_string()));
  CHECK(wait_until([&] {
    auto all = allocations_of(fc, rental);
    return all.size() == 3 && !has_node(all, d.id) && has_node(all, c.id);
  }, 30s));
  CHECK(wait_until([&] { return node_containers(d.id).empty(); }, 30s));
  // The old port is free once the agent on d has confirmed the removal.
  CHECK(wait_until([&] {
    return fc.c.db.scalar("SELECT released_at IS NOT NULL FROM allocations WHERE id = " + std::to_string(on_d.id)) ==
           "1";
  }, 30s));
  CHECK(wait_for_mail(services::from_env().mail_dir, email, "127.0.0.4:" + std::to_string(port)));
  CHECK(allocations_of(fc, rental).size() == 3);
  CHECK(rental_field(fc, "degraded") == "0");
  // The admin list narrows to the rental and a state; the freed allocation is no longer listed.
  auto listed = fc.admin.get("/api/v1/admin/allocations?rental_id=" + rental + "&state=running");
  REQUIRE(listed.status == 200);
  auto items = json_of(listed).at("items").as_array();
  CHECK(items.size() == 3);
  CHECK(std::none_of(items.begin(), items.end(), [&](const auto& v) { return v.at("node_id").as_int64() == d.id; }));
  CHECK(json_of(fc.admin.get("/api/v1/admin/allocations?node_id=" + std::to_string(d.id))).at("items").as_array().empty());
  auto bad_state = fc.admin.get("/api/v1/admin/allocations?state=gone");
  CHECK(bad_state.status == 400);
  CHECK(error_field(bad_state) == "state");
  (void)on_a;
  for (auto* n : {&a, &b, &c, &d}) {
    n->agent->terminate();
  }
}

TEST_CASE("a released allocation keeps its port until its agent confirms the container is gone") {
  fleet_controller fc;
  cleanup done;
  auto a = add_node(fc, unique_name("pa"), "127.0.0.2", "tokyo");
  done.nodes = {a.id};
  auto first = fc.create_allocation(a.id, {});
  auto id = first.at("id").as_int64();
  auto port = first.at("port").as_int64();
  REQUIRE(wait_until([&] { return node_containers(a.id).size() == 1; }, 60s));

  a.agent->kill9();
  auto released = fc.admin.send("DELETE", "/api/v1/admin/allocations/" + std::to_string(id), "");
  REQUIRE(released.status == 204);
  CHECK(fc.admin.send("DELETE", "/api/v1/admin/allocations/" + std::to_string(id), "").status == 404);
  CHECK(fc.c.db.scalar("SELECT CONCAT(state, ' ', released_at IS NULL) FROM allocations WHERE id = " +
                       std::to_string(id)) == "released 1");
  // The container still runs (its agent is down), so its port is not handed out again.
  auto body = "{\"node_id\":" + std::to_string(a.id) + ",\"port\":" + std::to_string(port) + "}";
  auto clash = fc.admin.post("/api/v1/admin/allocations", body);
  CHECK(clash.status == 409);
  CHECK(error_code(clash) == "port_taken");
  CHECK(node_containers(a.id).size() == 1);

  // The agent comes back, removes the container and reports; then the port is free.
  a.agent->start();
  CHECK(wait_until([&] { return node_containers(a.id).empty(); }, 60s));
  CHECK(wait_until([&] {
    return fc.c.db.scalar("SELECT released_at IS NOT NULL FROM allocations WHERE id = " + std::to_string(id)) == "1";
  }, 30s));
  auto again = fc.admin.post("/api/v1/admin/allocations", body);
  CHECK_MESSAGE(again.status == 201, again.body);
  a.agent->terminate();
}

TEST_CASE("deleting a node with servers drains it first; force deletes at once and the rental waits for capacity") {
  fleet_controller fc;
  cleanup done;
  auto a = add_node(fc, unique_name("ka"), "127.0.0.2", "tokyo");
  auto b = add_node(fc, unique_name("kb"), "127.0.0.3", "osaka");
  auto c = add_node(fc, unique_name("kc"), "127.0.0.4", "seoul");
  done.nodes = {a.id, b.id, c.id};
  auto codes = serials(fc, 1);
  browser buyer(fc.c.base_url(), test_origin);
  sign_in_customer(buyer, unique_name("deleted-node") + "@example.com");
  REQUIRE(buyer.post("/api/v1/me/redeem", R"({"serial":")" + codes[0] + R"("})").status == 200);
  auto rental = rental_field(fc, "id");
  REQUIRE(wait_until([&] { return rental_field(fc, "status") == "active"; }, 15s));
  auto manual = fc.create_allocation(a.id, {});
  REQUIRE(wait_until([&] { return node_containers(a.id).size() == 2; }, 60s));
  auto spare = add_node(fc, unique_name("kd"), "127.0.0.5", "taipei");
  done.nodes.push_back(spare.id);

  auto node_path = [](std::int64_t id) { return "/api/v1/admin/nodes/" + std::to_string(id); };
  auto bad = fc.admin.send("DELETE", node_path(a.id) + "?force=maybe", "");
  CHECK(bad.status == 400);
  CHECK(error_field(bad) == "force");

  // a holds a rental server and a hand-made allocation: deletion drains it and answers 202.
  auto asked = fc.admin.send("DELETE", node_path(a.id), "");
  REQUIRE_MESSAGE(asked.status == 202, asked.body);
  CHECK(json_of(asked).at("deleting") == true);
  CHECK(json_of(asked).at("draining") == true);
  CHECK(fc.admin.post(node_path(a.id) + "/drain", R"({"draining":false})").status == 409);
  CHECK(fc.c.db.scalar("SELECT state FROM allocations WHERE id = " + std::to_string(manual.at("id").as_int64())) ==
        "released");
  // The rental's server moves to the spare; then the node is deleted and its agent shut out.
  CHECK(wait_until([&] {
    auto all = allocations_of(fc, rental);
    return all.size() == 3 && !has_node(all, a.id) && has_node(all, spare.id);
  }, 60s));
  CHECK(wait_until([&] { return fc.admin.get(node_path(a.id)).status == 404; }, 60s));
  CHECK(node_containers(a.id).empty());
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM allocations WHERE node_id = " + std::to_string(a.id) +
                       " AND released_at IS NULL") == "0");
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'node.delete_requested'") == "1");
  CHECK_MESSAGE(wait_until([&] { return a.agent->log().find("session ended") != std::string::npos; }, 10s), a.agent->log());

  // Force: b goes at once; the rental has nowhere else to go (a is gone) and is left degraded on two servers.
  auto forced = fc.admin.send("DELETE", node_path(b.id) + "?force=true", "");
  REQUIRE_MESSAGE(forced.status == 204, forced.body);
  CHECK(fc.admin.get(node_path(b.id)).status == 404);
  CHECK(wait_until([&] {
    fc.c.app->run_jobs_now();
    return rental_field(fc, "degraded") == "1";
  }, 20s));
  auto left = allocations_of(fc, rental);
  CHECK(left.size() == 2);
  CHECK(!has_node(left, b.id));
  CHECK(wait_until([&] { return node_containers(b.id).empty() || !b.agent->running(); }, 30s));
  for (auto* n : {&a, &b, &c, &spare}) {
    n->agent->terminate();
  }
}
