// The admin API for nodes and allocations, and `derpmgr-controller ca init`, against a real controller on MariaDB.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <algorithm>
#include <fstream>
#include <sstream>

#include "controller/app/app_services.hpp"
#include "controller/auth/server_keys.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/secret_box.hpp"
#include "shared/tls/x509.hpp"
#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

const std::string nodes_path = "/api/v1/admin/nodes";
const std::string allocations_path = "/api/v1/admin/allocations";

std::string node_path(std::int64_t id) { return nodes_path + "/" + std::to_string(id); }

json::object full_node(const std::string& name, int base) {
  return json::object{{"name", name},
                      {"region", "eu-central"},
                      {"public_ipv4", "127.0.0.2"},
                      {"public_ipv6", "::1"},
                      {"dns_name", "derp-" + name + ".example.com"},
                      {"bind_ip", "127.0.0.2"},
                      {"port_min", base},
                      {"port_max", base + 99},
                      {"capacity", 40},
                      {"bandwidth_mbps", 1000},
                      {"monthly_traffic_cap_bytes", 20'000'000'000'000LL},
                      {"traffic_reset_day", 15},
                      {"provider", "Hetzner"},
                      {"monthly_cost_cents", 499},
                      {"paid_until", "2027-02-28"}};
}

http_result post_json(browser& b, const std::string& path, const json::object& body) {
  return b.post(path, json::serialize(body));
}

http_result patch(browser& b, std::int64_t id, const json::object& body) {
  return b.send("PATCH", node_path(id), json::serialize(body));
}

http_result allocate(browser& b, std::int64_t node_id, std::optional<int> port,
                     const json::array& keys = json::array{}) {
  json::object body{{"node_id", node_id}, {"allowed_keys", keys}};
  if (port) {
    body["port"] = *port;
  }
  return post_json(b, allocations_path, body);
}

http_result release(browser& b, std::int64_t allocation_id) {
  return b.send("DELETE", allocations_path + "/" + std::to_string(allocation_id), "");
}

std::int64_t id_of(const http_result& r) { return json_of(r).at("id").as_int64(); }

int mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return static_cast<int>(st.st_mode & 0777);
}

// `prefix` followed by exactly 64 lowercase hex digits (std::regex trips g++ 12's -Wmaybe-uninitialized).
bool is_prefixed_hex64(const std::string& text, const std::string& prefix) {
  if (text.size() != prefix.size() + 64 || text.rfind(prefix, 0) != 0) {
    return false;
  }
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(prefix.size()), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a node created with every field shows them all, with a one-time enrollment") {
  fleet_controller fc;
  int base = random_port_base();
  auto body = full_node("fra-1", base);
  auto created = post_json(fc.admin, nodes_path, body);
  REQUIRE_MESSAGE(created.status == 201, created.body);
  auto answer = json_of(created);
  auto id = answer.at("id").as_int64();
  auto enrollment = answer.at("enrollment").as_object();
  CHECK(enrollment.at("token").as_string().starts_with("dmt1."));
  CHECK(enrollment.at("install_command").as_string().find(enrollment.at("token").as_string()) !=
        json::string::npos);

  auto shown = fc.node(id);
  for (const auto& field : body) {
    CHECK_MESSAGE(shown.at(field.key()) == field.value(), field.key());
  }
  CHECK(shown.at("public_host").as_string() == "derp-fra-1.example.com");
  CHECK(shown.at("status").as_string() == "pending");
  CHECK(shown.at("draining").as_bool() == false);
  CHECK(shown.at("allocations").as_array().empty());
  CHECK_FALSE(shown.contains("enrollment"));  // the token is shown once

  auto list = fc.admin.get(nodes_path);
  REQUIRE(list.status == 200);
  auto items = json_of(list).at("items").as_array();
  REQUIRE(items.size() == 1);
  CHECK(items[0].at("name").as_string() == "fra-1");

  SUBCASE("optional fields cleared by PATCH read back as null") {
    auto r = patch(fc.admin, id, json::object{{"public_ipv6", nullptr}, {"dns_name", ""}, {"paid_until", nullptr}});
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto after = fc.node(id);
    CHECK(after.at("public_ipv6").is_null());
    CHECK(after.at("dns_name").is_null());
    CHECK(after.at("paid_until").is_null());
    CHECK(after.at("public_host").as_string() == "127.0.0.2");
  }
}

TEST_CASE("bad node input is a 400 naming the field") {
  fleet_controller fc;
  int base = random_port_base();
  auto expect_field = [&](const std::string& field, json::value value, const std::string& expected) {
    auto body = full_node("bad", base);
    if (value.is_null()) {
      body.erase(field);
    } else {
      body[field] = std::move(value);
    }
    auto r = post_json(fc.admin, nodes_path, body);
    CHECK_MESSAGE(r.status == 400, field << ": " << r.body);
    CHECK_MESSAGE(error_field(r) == expected, field << ": " << r.body);
  };
  expect_field("public_ipv6", "203.0.113.7", "public_ipv6");
  expect_field("public_ipv4", "127.0.0.300", "public_ipv4");
  expect_field("dns_name", "not a host", "dns_name");
  expect_field("capacity", 101, "capacity");  // 100 ports in the range
  expect_field("paid_until", "2027-02-29", "paid_until");  // not a leap year: MariaDB would refuse it with a 500
  expect_field("paid_until", "31.12.2027", "paid_until");
  expect_field("port_min", 80, "port_min");
  expect_field("traffic_reset_day", 31, "traffic_reset_day");
  expect_field("name", nullptr, "name");
  expect_field("region", nullptr, "region");
  CHECK(fc.admin.get(nodes_path).body.find("\"bad\"") == std::string::npos);  // nothing was stored

  auto node = fc.create_node("good", "127.0.0.2", base, base + 9);
  auto r = patch(fc.admin, node.at("id").as_int64(), json::object{{"capacity", 11}});
  CHECK(r.status == 400);
  CHECK(error_field(r) == "capacity");
  r = patch(fc.admin, node.at("id").as_int64(), json::object{{"public_ipv4", "::1"}});
  CHECK(r.status == 400);
  CHECK(error_field(r) == "public_ipv4");
}

TEST_CASE("node names are unique among live nodes, and a deleted node's name can be reused") {
  fleet_controller fc;
  int base = random_port_base();
  auto first = fc.create_node("dup", "127.0.0.2", base, base + 9);
  auto again = post_json(fc.admin, nodes_path, full_node("dup", base));
  CHECK(again.status == 409);
  CHECK(error_code(again) == "name_taken");
  CHECK(error_field(again) == "name");

  auto other = fc.create_node("other", "127.0.0.3", base, base + 9);
  auto rename = patch(fc.admin, other.at("id").as_int64(), json::object{{"name", "dup"}});
  CHECK(rename.status == 409);
  CHECK(error_code(rename) == "name_taken");
  CHECK(fc.node(other.at("id").as_int64()).at("name").as_string() == "other");
  // Renaming a node to its own name is no clash.
  CHECK(patch(fc.admin, first.at("id").as_int64(), json::object{{"name", "dup"}}).status == 200);

  REQUIRE(fc.admin.send("DELETE", node_path(first.at("id").as_int64()), "").status == 204);
  auto reused = post_json(fc.admin, nodes_path, full_node("dup", base));
  REQUIRE_MESSAGE(reused.status == 201, reused.body);
  CHECK(id_of(reused) != first.at("id").as_int64());
}

TEST_CASE("PATCH changes only the fields it carries") {
  fleet_controller fc;
  int base = random_port_base();
  auto created = post_json(fc.admin, nodes_path, full_node("patchme", base));
  REQUIRE(created.status == 201);
  auto id = id_of(created);
  auto before = fc.node(id);
  auto r = patch(fc.admin, id, json::object{{"capacity", 5}, {"provider", "OVH"}, {"region", "eu-west"}});
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(json_of(r).at("capacity").as_int64() == 5);
  auto after = fc.node(id);
  CHECK(after.at("capacity").as_int64() == 5);
  CHECK(after.at("provider").as_string() == "OVH");
  CHECK(after.at("region").as_string() == "eu-west");
  for (const char* unchanged : {"name", "public_ipv4", "public_ipv6", "dns_name", "bind_ip", "port_min", "port_max",
                                "bandwidth_mbps", "monthly_traffic_cap_bytes", "traffic_reset_day",
                                "monthly_cost_cents", "paid_until", "draining"}) {
    CHECK_MESSAGE(after.at(unchanged) == before.at(unchanged), unchanged);
  }
  CHECK(patch(fc.admin, id + 1'000'000'000'000, json::object{{"capacity", 5}}).status == 404);
}

TEST_CASE("a node's address cannot change while an allocation lives on it") {
  fleet_controller fc;
  int base = random_port_base();
  auto node = fc.create_node("moving", "127.0.0.2", base, base + 9);
  auto id = node.at("id").as_int64();
  auto alloc = allocate(fc.admin, id, base + 5);
  REQUIRE_MESSAGE(alloc.status == 201, alloc.body);

  auto moved = patch(fc.admin, id, json::object{{"public_ipv4", "127.0.0.3"}});
  CHECK(moved.status == 409);
  CHECK(error_code(moved) == "node_has_allocations");
  CHECK(patch(fc.admin, id, json::object{{"dns_name", "new.example.com"}}).status == 409);
  CHECK(patch(fc.admin, id, json::object{{"bind_ip", "127.0.0.3"}}).status == 409);
  // A port range that would leave the allocation outside.
  auto narrowed = patch(fc.admin, id, json::object{{"port_max", base + 4}, {"capacity", 5}});
  CHECK(narrowed.status == 409);
  CHECK(error_code(narrowed) == "node_has_allocations");
  CHECK(fc.node(id).at("public_ipv4").as_string() == "127.0.0.2");
  // What does not move the containers is fine.
  auto fine = patch(fc.admin, id, json::object{{"provider", "elsewhere"}, {"capacity", 3}});
  REQUIRE(fine.status == 200);
  // The answers to PATCH and drain count the node's allocations as GET does.
  CHECK(json_of(fine).at("allocations_desired").as_int64() == 1);
  CHECK(fc.node(id).at("allocations_desired").as_int64() == 1);
  auto drained = fc.admin.post(node_path(id) + "/drain", "{}");
  REQUIRE(drained.status == 200);
  CHECK(json_of(drained).at("allocations_desired").as_int64() == 1);

  REQUIRE(release(fc.admin, id_of(alloc)).status == 204);
  auto now_moved = patch(fc.admin, id, json::object{{"public_ipv4", "127.0.0.3"}, {"bind_ip", "127.0.0.3"}});
  CHECK_MESSAGE(now_moved.status == 200, now_moved.body);
  CHECK(fc.node(id).at("public_ipv4").as_string() == "127.0.0.3");
}

TEST_CASE("draining is switched on and off") {
  fleet_controller fc;
  int base = random_port_base();
  auto id = fc.create_node("drain", "127.0.0.2", base, base + 9).at("id").as_int64();
  auto on = fc.admin.post(node_path(id) + "/drain", "{}");
  REQUIRE_MESSAGE(on.status == 200, on.body);
  CHECK(json_of(on).at("draining").as_bool());
  CHECK(fc.node(id).at("draining").as_bool());
  auto off = fc.admin.post(node_path(id) + "/drain", R"({"draining":false})");
  REQUIRE(off.status == 200);
  CHECK_FALSE(fc.node(id).at("draining").as_bool());
  auto bad = fc.admin.post(node_path(id) + "/drain", R"({"draining":"yes"})");
  CHECK(bad.status == 400);
  CHECK(error_field(bad) == "draining");
  CHECK(fc.admin.post(node_path(id + 1'000'000'000'000) + "/drain", "{}").status == 404);
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('node.drain', 'node.undrain') AND target = "
                       "'node:" + std::to_string(id) + "'") == "2");
}

TEST_CASE("deleting a node with a live allocation drains it first; once deleted it is gone and its token is dead") {
  fleet_controller fc;
  int base = random_port_base();
  auto node = fc.create_node("doomed", "127.0.0.2", base, base + 9);
  auto id = node.at("id").as_int64();
  auto token = std::string(node.at("enrollment").as_object().at("token").as_string());
  auto alloc = allocate(fc.admin, id, std::nullopt);
  REQUIRE(alloc.status == 201);

  // A hand-made allocation is released at once; the node is deleted by the lifecycle pass the request wakes (it
  // never had an agent, so nothing has to confirm the removal).
  auto asked = fc.admin.send("DELETE", node_path(id), "");
  CHECK(asked.status == 202);
  CHECK(json_of(asked).at("deleting") == true);
  CHECK(release(fc.admin, id_of(alloc)).status == 404);  // already released by the deletion
  CHECK(wait_until([&] { return fc.admin.get(node_path(id)).status == 404; }, 10s));
  CHECK(fc.admin.get(node_path(id)).status == 404);
  CHECK(fc.admin.send("DELETE", node_path(id), "").status == 404);
  CHECK(json_of(fc.admin.get(nodes_path)).at("items").as_array().empty());
  CHECK(fc.admin.post(node_path(id) + "/enrollment-token", "{}").status == 404);
  CHECK(allocate(fc.admin, id, std::nullopt).status == 404);

  agent_process agent("deleted-node");
  auto [code, out] = agent.enroll(fc.c.agents_url(), token);
  CHECK_MESSAGE(code != 0, out);
  CHECK_FALSE(fs::exists(agent.state_dir() / "agent.pem"));
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM enrollment_tokens WHERE node_id = " + std::to_string(id) +
                       " AND used_at IS NULL") == "0");
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'node.deleted' AND target = 'node:" +
                       std::to_string(id) + "'") == "1");
}

TEST_CASE("allocations take the lowest free port, respect the range, single ports and the capacity") {
  fleet_controller fc;
  int base = random_port_base();
  auto created = post_json(fc.admin, nodes_path,
                           json::object{{"name", "ports"}, {"region", "test"}, {"public_ipv4", "127.0.0.2"},
                                        {"port_min", base}, {"port_max", base + 4}, {"capacity", 4}});
  REQUIRE(created.status == 201);
  auto id = id_of(created);
  auto port_of = [](const http_result& r) { return static_cast<int>(json_of(r).at("port").as_int64()); };

  auto a = allocate(fc.admin, id, std::nullopt);
  REQUIRE_MESSAGE(a.status == 201, a.body);
  CHECK(port_of(a) == base);
  auto b = allocate(fc.admin, id, base + 2);
  REQUIRE(b.status == 201);
  CHECK(port_of(b) == base + 2);
  auto c = allocate(fc.admin, id, std::nullopt);
  REQUIRE(c.status == 201);
  CHECK(port_of(c) == base + 1);

  auto twice = allocate(fc.admin, id, base + 2);
  CHECK(twice.status == 409);
  CHECK(error_code(twice) == "port_taken");
  CHECK(error_field(twice) == "port");
  for (int outside : {base + 5, base - 1, 80, 70000}) {
    auto r = allocate(fc.admin, id, outside);
    CHECK_MESSAGE(r.status == 400, outside);
    CHECK(error_field(r) == "port");
  }
  for (const char* keys : {R"(["nodekey:XYZ"])", R"(["nodekey:)"
                                                 "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\"]",
                           R"("nodekey:1")", R"([5])"}) {
    auto r = fc.admin.post(allocations_path,
                           "{\"node_id\":" + std::to_string(id) + ",\"allowed_keys\":" + keys + "}");
    CHECK_MESSAGE(r.status == 400, keys);
    CHECK(error_field(r) == "allowed_keys");
  }
  auto no_node = allocate(fc.admin, id + 1'000'000'000'000, std::nullopt);
  CHECK(no_node.status == 404);

  // A released port can be taken again, and is the lowest free one.
  REQUIRE(release(fc.admin, id_of(a)).status == 204);
  auto again = allocate(fc.admin, id, std::nullopt);
  REQUIRE(again.status == 201);
  CHECK(port_of(again) == base);
  auto d = allocate(fc.admin, id, base + 3);
  REQUIRE(d.status == 201);

  // Four live allocations: the node is full though one port is still free.
  auto full = allocate(fc.admin, id, std::nullopt);
  CHECK(full.status == 409);
  CHECK(error_code(full) == "node_full");
  auto full_explicit = allocate(fc.admin, id, base + 4);
  CHECK(full_explicit.status == 409);
  CHECK(error_code(full_explicit) == "node_full");

  auto list = fc.admin.get(allocations_path + "?node_id=" + std::to_string(id));
  REQUIRE(list.status == 200);
  std::vector<int> ports;
  auto items = json_of(list).at("items").as_array();
  for (const auto& item : items) {
    ports.push_back(static_cast<int>(item.at("port").as_int64()));
  }
  std::sort(ports.begin(), ports.end());
  CHECK(ports == std::vector<int>{base, base + 1, base + 2, base + 3});
  auto shown = fc.node(id);
  CHECK(shown.at("allocations").as_array().size() == 4);
  CHECK(shown.at("allocations_desired").as_int64() == 4);
}

TEST_CASE("an allocation's certificate is pinned and its private key stored sealed") {
  fleet_controller fc;
  int base = random_port_base();
  auto id = fc.create_node("pins", "127.0.0.2", base, base + 9).at("id").as_int64();
  auto key = random_node_key();
  auto r = allocate(fc.admin, id, std::nullopt, json::array{key, key});
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto alloc = json_of(r);
  auto alloc_id = alloc.at("id").as_int64();
  auto pin = std::string(alloc.at("cert_pin").as_string());
  CHECK(is_prefixed_hex64(pin, "sha256-raw:"));
  CHECK(alloc.at("public_host").as_string() == "127.0.0.2");
  CHECK(alloc.at("allowed_keys").as_array() == json::array{key});  // duplicates collapse
  CHECK(r.body.find("PRIVATE KEY") == std::string::npos);
  CHECK(r.body.find("BEGIN CERTIFICATE") == std::string::npos);  // the API shows the pin only

  auto where = " FROM allocations WHERE id = " + std::to_string(alloc_id);
  auto cert_pem = fc.c.db.scalar("SELECT cert_pem" + where);
  REQUIRE(cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(sha256_raw_pin(cert_pem) == pin);
  CHECK(fc.c.db.scalar("SELECT cert_pin" + where) == pin);
  auto sealed = fc.c.db.scalar("SELECT cert_key_sealed" + where);
  REQUIRE_FALSE(sealed.empty());
  CHECK(sealed.find("PRIVATE KEY") == std::string::npos);
  // It opens with the controller's allocation key, for this allocation only.
  const auto& keys = fc.c.app->services().keys;
  auto key_pem = secret_box::open(keys.allocation_key(), from_hex(sealed), "allocation:" + std::to_string(alloc_id));
  CHECK(key_pem.find("PRIVATE KEY") != std::string::npos);
  CHECK_THROWS((void)secret_box::open(keys.allocation_key(), from_hex(sealed), "allocation:" + std::to_string(alloc_id + 1)));

  // The node page lists the same pin.
  auto listed = fc.node(id).at("allocations").as_array();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].at("cert_pin").as_string() == pin);
  CHECK(listed[0].at("allowed_keys").as_array() == json::array{key});
  auto all = fc.admin.get(allocations_path);
  REQUIRE(all.status == 200);
  CHECK(json_of(all).at("items").as_array().at(0).at("allowed_keys").as_array() == json::array{key});
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'allocation.created' AND target = "
                       "'allocation:" + std::to_string(alloc_id) + "'") == "1");
}

TEST_CASE("support may look at nodes but not change them; an operator may") {
  fleet_controller fc;
  int base = random_port_base();
  auto node_id = fc.create_node("perm", "127.0.0.2", base, base + 9).at("id").as_int64();

  browser support(fc.c.base_url(), test_origin);
  sign_in_admin(fc.c, support, "support");
  CHECK(support.get(nodes_path).status == 200);
  CHECK(support.get(node_path(node_id)).status == 200);
  CHECK(support.get(allocations_path).status == 200);
  auto denied = post_json(support, nodes_path, full_node("by-support", base));
  CHECK(denied.status == 403);
  CHECK(error_code(denied) == "forbidden");
  CHECK(allocate(support, node_id, std::nullopt).status == 403);
  CHECK(patch(support, node_id, json::object{{"capacity", 2}}).status == 403);
  CHECK(support.post(node_path(node_id) + "/drain", "{}").status == 403);
  CHECK(support.send("DELETE", node_path(node_id), "").status == 403);
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM allocations") == "0");

  browser op(fc.c.base_url(), test_origin);
  sign_in_admin(fc.c, op, "operator");
  auto made = post_json(op, nodes_path, full_node("by-operator", base));
  CHECK_MESSAGE(made.status == 201, made.body);
  auto alloc = allocate(op, node_id, std::nullopt);
  CHECK_MESSAGE(alloc.status == 201, alloc.body);

  // The audit log names who did it.
  auto op_node = std::to_string(id_of(made));
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'node.created' AND target = 'node:" + op_node +
                       "' AND actor_kind = 'admin' AND details LIKE '%by-operator%'") == "1");
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'allocation.created' AND target = 'allocation:" +
                       std::to_string(id_of(alloc)) + "'") == "1");
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'node.created'") == "2");
}

TEST_CASE("`ca init` creates the agent CA once, and `serve` refuses to start without one") {
  test_database db("cainit");
  auto dir = fs::temp_directory_path() / ("derpmgr-cainit-" + random_hex(4));
  fs::create_directories(dir / "state");
  auto ca_dir = dir / "shared-ca";
  auto config = dir / "controller.toml";
  {
    std::ofstream out(config);
    out << "[database]\nurl = \"" << db.url() << "\"\n"
        << "[http]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://derpmgr.test\"\n"
        << "[agents]\nlisten = \"127.0.0.1:0\"\nca_dir = \"" << ca_dir.string() << "\"\n"
        << "[metrics]\nlisten = \"127.0.0.1:0\"\n"
        << "[state]\ndir = \"" << (dir / "state").string() << "\"\n";
  }
  auto bin = shell_quote(DERPMGR_CONTROLLER_BIN);
  auto cfg = " --config " + shell_quote(config.string());

  auto serve = run_command("ASAN_OPTIONS=detect_leaks=0 timeout 60 " + bin + " serve" + cfg);
  CHECK(serve.exit_code != 0);
  CHECK(serve.exit_code != 124);  // it refused; it did not run until the timeout
  CHECK_MESSAGE(serve.output.find("ca init") != std::string::npos, serve.output);
  CHECK_FALSE(fs::exists(ca_dir / "ca.key"));

  auto first = run_command(bin + " ca init" + cfg);
  REQUIRE_MESSAGE(first.exit_code == 0, first.output);
  CHECK(first.output.find("created the agent CA in " + ca_dir.string()) != std::string::npos);
  REQUIRE(fs::exists(ca_dir / "ca.crt"));
  REQUIRE(fs::exists(ca_dir / "ca.key"));
  CHECK(mode_of(ca_dir / "ca.key") == 0600);
  CHECK(file_text(ca_dir / "ca.key").find("PRIVATE KEY") != std::string::npos);
  auto fingerprint_line = [](const std::string& out) {
    auto at = out.find("fingerprint: ");
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  auto fingerprint = fingerprint_line(first.output);
  CHECK(is_prefixed_hex64(fingerprint, "fingerprint: "));
  auto cert_before = file_text(ca_dir / "ca.crt");
  auto key_before = file_text(ca_dir / "ca.key");

  auto second = run_command(bin + " ca init" + cfg);
  REQUIRE_MESSAGE(second.exit_code == 0, second.output);
  CHECK(second.output.find("already exists") != std::string::npos);
  CHECK(fingerprint_line(second.output) == fingerprint);
  CHECK(file_text(ca_dir / "ca.crt") == cert_before);
  CHECK(file_text(ca_dir / "ca.key") == key_before);
  CHECK(mode_of(ca_dir / "ca.key") == 0600);

  // A broken CA is an error, never silently replaced.
  { std::ofstream(ca_dir / "ca.key") << "garbage"; }
  auto broken = run_command(bin + " ca init" + cfg);
  CHECK(broken.exit_code != 0);
  CHECK(file_text(ca_dir / "ca.key") == "garbage");
  fs::remove_all(dir);
}
