#include "tests/integration/fleet/fleet_support.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/support/api_helpers.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_env.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::test::fleet {

namespace fs = std::filesystem;
namespace json = boost::json;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return condition();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

int random_port_base() {
  std::random_device rd;
  return 20000 + static_cast<int>(rd() % 400) * 100;
}

std::string random_node_key() { return "nodekey:" + random_hex(32); }

namespace {

void randomize_ids(controller_fixture& c) {
  std::random_device rd;
  auto base = 1'000'000 + (static_cast<std::uint64_t>(rd()) % 1'000'000'000);
  c.db.execute("ALTER TABLE nodes AUTO_INCREMENT = " + std::to_string(base));
  c.db.execute("ALTER TABLE allocations AUTO_INCREMENT = " + std::to_string(base));
}

}  // namespace

fleet_controller::fleet_controller() : fleet_controller([](controller::controller_config&) {}) {}

fleet_controller::fleet_controller(const std::function<void(controller::controller_config&)>& adjust)
    : c("fleet",
        [&adjust](controller::controller_config& cfg) {
          cfg.derper_image = services::from_env().derper_image;
          adjust(cfg);
        }),
      admin(c.base_url(), test_origin) {
  randomize_ids(c);
  sign_in_admin(c, admin, "owner");
}

fleet_controller::fleet_controller(fleet_controller& first, const std::string& agents_listen)
    : c("fleet",
        [&first, agents_listen](controller::controller_config& cfg) {
          cfg.database_url = first.c.db.url();
          cfg.agents_ca_dir = first.c.ca_dir().string();
          cfg.security_master_key_file = (first.c.state / "master.key").string();
          cfg.agents_listen = agents_listen;
          cfg.derper_image = services::from_env().derper_image;
        }),
      admin(c.base_url(), test_origin) {
  // Admins live in the shared database; a second owner signs in here.
  sign_in_admin(c, admin, "owner");
}

json::object fleet_controller::create_node(const std::string& name, const std::string& ip, int port_min,
                                           int port_max) {
  json::object body{{"name", name},       {"region", "test"},        {"public_ipv4", ip},
                    {"bind_ip", ip},      {"port_min", port_min},    {"port_max", port_max},
                    {"capacity", 10},     {"provider", "loopback"}};
  auto r = admin.post("/api/v1/admin/nodes", json::serialize(body));
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return json_of(r);
}

json::object fleet_controller::create_allocation(std::int64_t node_id, const std::vector<std::string>& keys) {
  json::array k;
  for (const auto& key : keys) {
    k.emplace_back(key);
  }
  auto r = admin.post("/api/v1/admin/allocations",
                      json::serialize(json::object{{"node_id", node_id}, {"allowed_keys", std::move(k)}}));
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return json_of(r);
}

json::object fleet_controller::node(std::int64_t node_id) {
  auto r = admin.get("/api/v1/admin/nodes/" + std::to_string(node_id));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return json_of(r);
}

agent_process::agent_process(const std::string& name, const std::string& extra_config)
    : state_(fs::temp_directory_path() / ("derpmgr-agent-" + name + "-" + random_hex(4))),
      admission_port_(free_port()) {
  fs::create_directories(state_);
  auto env = services::from_env();
  std::ofstream cfg(state_ / "agent.toml");
  cfg << "[state]\ndir = \"" << state_.string() << "\"\n"
      << "[docker]\nsocket = \"" << env.docker_socket << "\"\n"
      << "[admission]\nlisten = \"127.0.0.1:" << admission_port_ << "\"\n"
      << "[log]\nlevel = \"debug\"\n"
      << extra_config;
}

agent_process::~agent_process() {
  if (pid_ > 0) {
    kill9();
  }
  std::error_code ec;
  fs::remove_all(state_, ec);
}

std::pair<int, std::string> agent_process::enroll(const std::string& controller_url, const std::string& token) {
  auto r = run_command(std::string(DERPMGR_AGENT_BIN) + " enroll --config " + shell_quote((state_ / "agent.toml").string()) +
                       " --controller " + shell_quote(controller_url) + " --token " + shell_quote(token));
  return {r.exit_code, r.output};
}

void agent_process::start(const std::string& controller_url_override) {
  REQUIRE(pid_ < 0);
  auto config = (state_ / "agent.toml").string();
  auto log = (state_ / "agent.log").string();
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    ::setpgid(0, 0);
    if (!controller_url_override.empty()) {
      ::setenv("DERPMGR_CONTROLLER_URL", controller_url_override.c_str(), 1);
    }
    ::setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
    FILE* out = std::freopen(log.c_str(), "a", stdout);
    (void)out;
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    // The in-process controller's sockets must not leak into the agent (it would keep them listening).
    ::close_range(3, ~0U, 0);
    ::execl(DERPMGR_AGENT_BIN, DERPMGR_AGENT_BIN, "run", "--config", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

void agent_process::kill9() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void agent_process::terminate() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill9();
}

bool agent_process::running() { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

std::string agent_process::log() const {
  std::ifstream in(state_ / "agent.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::pair<std::string, std::string>> node_containers(std::int64_t node_id) {
  auto r = run_command("docker ps -a --filter label=derpmgr.node=" + std::to_string(node_id) +
                       " --format '{{.Names}} {{.State}}'");
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream lines(r.output);
  std::string name, state;
  while (lines >> name >> state) {
    out.emplace_back(name, state);
  }
  return out;
}

void remove_node_containers(std::int64_t node_id) {
  run_command("docker ps -aq --filter label=derpmgr.node=" + std::to_string(node_id) +
              " | xargs -r docker rm -f >/dev/null");
}

probe_result probe(const std::string& host, int port) {
  probe_result out;
  auto where = host + ":" + std::to_string(port);
  auto code = run_command("curl -sk --max-time 3 -o /dev/null -w '%{http_code}' https://" + where + "/derp/probe");
  out.status = std::atoi(code.output.c_str());
  auto pin = run_command("echo | openssl s_client -connect " + where +
                         " 2>/dev/null | openssl x509 -outform DER | sha256sum | cut -d' ' -f1");
  if (pin.exit_code == 0 && pin.output.size() >= 64) {
    out.pin = "sha256-raw:" + pin.output.substr(0, 64);
  }
  return out;
}

int derp_upgrade(const std::string& host, int port, const std::string& node_key) {
  auto r = run_command("curl -sk --max-time 2 -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' "
                       "-H 'Upgrade: DERP' -H 'Derpmgr-Test-Node-Key: " + node_key + "' https://" + host + ":" +
                       std::to_string(port) + "/derp");
  return std::atoi(r.output.c_str());
}

}  // namespace derpmgr::test::fleet
