// Enrollment and the agent listener's trust rules, against a real controller and derpmgr-agent processes.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <fstream>

#include "controller/fleet/ca_files.hpp"
#include "shared/protocol/enrollment_token.hpp"
#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/random.hpp"
#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/process.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;

namespace {

std::string token_of(const boost::json::object& node) {
  return std::string(node.at("enrollment").as_object().at("token").as_string());
}

int mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return static_cast<int>(st.st_mode & 0777);
}

// Asks for the agent WebSocket with a client certificate; returns the HTTP status (101 when accepted).
int connect_with(const std::string& agents_url, const std::string& cert_pem, const std::string& key_pem) {
  auto dir = std::filesystem::temp_directory_path() / ("derpmgr-client-" + random_hex(4));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "c.pem") << cert_pem;
  std::ofstream(dir / "k.pem") << key_pem;
  auto r = run_command("curl -sk --max-time 3 -o /dev/null -w '%{http_code}' --cert " + (dir / "c.pem").string() +
                       " --key " + (dir / "k.pem").string() +
                       " -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' "
                       "-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' " + agents_url + "/agent/v1/connect");
  std::filesystem::remove_all(dir);
  return std::atoi(r.output.c_str());
}

certificate_request client_request(std::int64_t node_id, std::chrono::system_clock::time_point not_before,
                                   std::chrono::system_clock::time_point not_after, const std::string& key) {
  certificate_request req;
  req.csr_pem = make_csr(key);
  req.common_name = "node-" + std::to_string(node_id);
  req.usage = certificate_usage::client;
  req.not_before = not_before;
  req.not_after = not_after;
  return req;
}

}  // namespace

TEST_CASE("a node is created with a one-time token, enrolls, connects and shows online") {
  fleet_controller fc;
  int base = random_port_base();
  auto node = fc.create_node("enroll-a", "127.0.0.2", base, base + 9);
  auto node_id = node.at("id").as_int64();
  CHECK(node.at("status").as_string() == "pending");
  auto token = token_of(node);
  auto parts = protocol::parse_enrollment_token(token);
  CHECK(parts.ca_fingerprint == controller::fleet::load_ca(fc.c.ca_dir()).fingerprint());
  auto install = std::string(node.at("enrollment").as_object().at("install_command").as_string());
  CHECK(install.find("derpmgr-agent enroll --controller ") == 0);
  CHECK(install.find(token) != std::string::npos);
  // The token is stored only as an HMAC.
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM enrollment_tokens WHERE token_hash LIKE '%" + parts.secret + "%'") == "0");

  agent_process agent("enroll-a");
  auto [code, out] = agent.enroll(fc.c.agents_url(), token);
  REQUIRE_MESSAGE(code == 0, out);
  CHECK(out.find("enrolled as node " + std::to_string(node_id)) != std::string::npos);
  for (const char* f : {"agent.pem", "ca.pem", "identity.json"}) {
    CHECK_MESSAGE(mode_of(agent.state_dir() / f) == 0600, f);
  }

  SUBCASE("the token works once") {
    agent_process second("enroll-a2");
    auto [code2, out2] = second.enroll(fc.c.agents_url(), token);
    CHECK(code2 != 0);
    CHECK(out2.find("already used") != std::string::npos);
  }

  agent.start();
  bool online = wait_until([&] { return fc.node(node_id).at("status").as_string() == "online"; }, 15s);
  CHECK_MESSAGE(online, agent.log());
  auto shown = fc.node(node_id);
  CHECK(shown.at("agent_version").is_string());
  CHECK(shown.at("certificate_expires_at").is_string());
  CHECK(shown.at("host").as_object().contains("kernel"));
  agent.terminate();
  remove_node_containers(node_id);
}

TEST_CASE("forged, expired and foreign-CA tokens are refused") {
  fleet_controller fc;
  int base = random_port_base();
  auto node = fc.create_node("enroll-b", "127.0.0.2", base, base + 9);
  auto token = token_of(node);
  auto parts = protocol::parse_enrollment_token(token);
  agent_process agent("enroll-b");

  // Right CA, made-up secret.
  auto forged = protocol::format_enrollment_token({random_hex(16), parts.ca_fingerprint});
  auto [c1, o1] = agent.enroll(fc.c.agents_url(), forged);
  CHECK(c1 != 0);
  CHECK(o1.find("not valid") != std::string::npos);

  // A token pinning another CA: the agent refuses the controller before sending anything.
  auto foreign = protocol::format_enrollment_token({parts.secret, std::string(64, 'a')});
  auto [c2, o2] = agent.enroll(fc.c.agents_url(), foreign);
  CHECK(c2 != 0);
  CHECK(o2.find("does not come from the CA in the token") != std::string::npos);

  // An hour later the real token has expired.
  fc.c.clk->advance(std::chrono::minutes(61));
  auto [c3, o3] = agent.enroll(fc.c.agents_url(), token);
  CHECK(c3 != 0);
  CHECK(o3.find("expired") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(agent.state_dir() / "agent.pem"));

  // A new token from the console works.
  browser admin(fc.c.base_url(), test_origin);  // the first admin's session idled out meanwhile
  sign_in_admin(fc.c, admin, "owner");
  auto fresh = admin.post("/api/v1/admin/nodes/" + std::to_string(node.at("id").as_int64()) + "/enrollment-token",
                             "{}");
  REQUIRE(fresh.status == 201);
  auto [c4, o4] = agent.enroll(fc.c.agents_url(), std::string(json_of(fresh).at("token").as_string()));
  CHECK_MESSAGE(c4 == 0, o4);
}

TEST_CASE("the agent listener accepts only the node's current certificate from the internal CA") {
  fleet_controller fc;
  int base = random_port_base();
  auto node = fc.create_node("trust", "127.0.0.2", base, base + 9);
  auto node_id = node.at("id").as_int64();
  agent_process agent("trust");
  auto [code, out] = agent.enroll(fc.c.agents_url(), token_of(node));
  REQUIRE_MESSAGE(code == 0, out);
  std::ifstream bundle_in(agent.state_dir() / "agent.pem");
  std::string bundle((std::istreambuf_iterator<char>(bundle_in)), std::istreambuf_iterator<char>());
  auto split = bundle.find("-----BEGIN CERTIFICATE-----");
  auto key = bundle.substr(0, split);
  auto cert = bundle.substr(split);
  auto url = fc.c.agents_url();
  auto now = std::chrono::system_clock::now();

  CHECK(connect_with(url, cert, key) == 101);

  auto ca = controller::fleet::load_ca(fc.c.ca_dir());
  auto other_ca = certificate_authority::create("another CA", 24h);
  auto other_key = generate_ec_key_pem();
  auto foreign = other_ca.issue(client_request(node_id, now - 1h, now + 24h, other_key));
  CHECK(connect_with(url, foreign.cert_pem, other_key) == 401);

  auto expired = ca.issue(client_request(node_id, now - 48h, now - 24h, other_key));
  CHECK(connect_with(url, expired.cert_pem, other_key) == 401);

  // Issued by our CA for this node, but not the serial the node enrolled with.
  auto stray = ca.issue(client_request(node_id, now - 1h, now + 24h, other_key));
  CHECK(connect_with(url, stray.cert_pem, other_key) == 401);

  // A server certificate of our CA is not a client certificate.
  auto server_req = client_request(node_id, now - 1h, now + 24h, other_key);
  server_req.usage = certificate_usage::server;
  CHECK(connect_with(url, ca.issue(server_req).cert_pem, other_key) == 401);

  SUBCASE("deleting the node closes its live session within 5 s") {
    agent.start();
    REQUIRE(wait_until([&] { return fc.node(node_id).at("status").as_string() == "online"; }, 15s));
    auto deleted = fc.admin.send("DELETE", "/api/v1/admin/nodes/" + std::to_string(node_id), "");
    REQUIRE(deleted.status == 204);
    CHECK_MESSAGE(wait_until([&] { return agent.log().find("session ended") != std::string::npos; }, 5s),
                  agent.log());
    CHECK(connect_with(url, cert, key) == 401);
    agent.terminate();
  }
  remove_node_containers(node_id);
}
