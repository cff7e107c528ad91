#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/browser.hpp"
#include "tests/support/controller_fixture.hpp"

// Helpers for the fleet tests: a controller with a signed-in owner, test nodes on their own loopback addresses,
// derpmgr-agent processes, and looks at Docker and the derpers from outside.
namespace derpmgr::test::fleet {

// Polls `condition` every 100 ms until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// A free TCP port on 127.0.0.1 (bound and released).
int free_port();

// A random base for a node's port range, so concurrent runs on one machine rarely meet.
int random_port_base();

// A valid, random "nodekey:<64 hex>".
std::string random_node_key();

// A controller whose node and allocation ids start at a random offset (container names carry them, and test
// runs share one Docker engine), with an owner signed in.
struct fleet_controller {
  controller_fixture c;
  browser admin;

  fleet_controller();
  // One whose configuration `adjust` may change before it starts.
  explicit fleet_controller(const std::function<void(controller::controller_config&)>& adjust);
  // Another replica on `first`'s database, CA and master key.
  explicit fleet_controller(fleet_controller& first, const std::string& agents_listen = "127.0.0.1:0");

  // POST /admin/nodes for a test node whose public and bind address is `ip`; returns the whole answer.
  boost::json::object create_node(const std::string& name, const std::string& ip, int port_min, int port_max);
  boost::json::object create_allocation(std::int64_t node_id, const std::vector<std::string>& keys);
  boost::json::object node(std::int64_t node_id);
};

// A derpmgr-agent process with its own state folder, config and admission port.
class agent_process {
 public:
  // `extra_config` is appended to the agent's TOML file (sections the helper does not write itself).
  explicit agent_process(const std::string& name, const std::string& extra_config = "");
  ~agent_process();
  agent_process(const agent_process&) = delete;
  agent_process& operator=(const agent_process&) = delete;

  // `derpmgr-agent enroll`; returns its exit code and output.
  std::pair<int, std::string> enroll(const std::string& controller_url, const std::string& token);
  // Starts `derpmgr-agent run` (optionally dialling another controller URL than the enrolled one).
  void start(const std::string& controller_url_override = "");
  void kill9();
  void terminate();
  bool running();
  std::string log() const;
  const std::filesystem::path& state_dir() const { return state_; }
  int admission_port() const { return admission_port_; }
  // The running agent's process id; -1 when it is not running.
  pid_t pid() const { return pid_; }

 private:
  std::filesystem::path state_;
  int admission_port_;
  pid_t pid_ = -1;
};

// Our containers for a node as Docker lists them: name → state.
std::vector<std::pair<std::string, std::string>> node_containers(std::int64_t node_id);
// Removes every container labelled with the node (test cleanup).
void remove_node_containers(std::int64_t node_id);

// GET https://host:port/derp/probe: the status code and the served leaf's sha256-raw pin.
struct probe_result {
  int status = 0;
  std::string pin;
};
probe_result probe(const std::string& host, int port);
// A /derp upgrade presenting `node_key` (stand-in convention): the status code (101 admitted, 403 refused).
int derp_upgrade(const std::string& host, int port, const std::string& node_key);

}  // namespace derpmgr::test::fleet
