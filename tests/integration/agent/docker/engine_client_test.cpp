#include "agent/docker/engine_client.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/docker/docker_error.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/test_env.hpp"
#include "tests/support/temp_dir.hpp"

using namespace derpmgr::agent;
using derpmgr::test::run_awaitable;
using derpmgr::test::unique_name;

using derpmgr::test::temp_dir;

namespace {

// Force-removes the containers a test created when it ends, whether it passed or not.
class container_cleanup {
 public:
  explicit container_cleanup(docker_client& docker) : docker_(docker) {}
  ~container_cleanup() {
    for (const std::string& name : names_) {
      try {
        run_awaitable(docker_.remove(name, true));
      } catch (const docker_error&) {
        // The container is gone or the engine is away; the test has already reported what matters.
      }
    }
  }
  container_cleanup(const container_cleanup&) = delete;
  container_cleanup& operator=(const container_cleanup&) = delete;

  void add(std::string name) { names_.push_back(std::move(name)); }

 private:
  docker_client& docker_;
  std::vector<std::string> names_;
};

// The hardened spec the agent would use, running `args` in the test image under our node's label.
container_spec test_spec(const derpmgr::test::services& env, const std::string& node, std::vector<std::string> args) {
  container_spec spec;
  spec.name = unique_name("derpmgr_test");
  spec.image = env.test_image;
  spec.args = std::move(args);
  spec.labels = {{"derpmgr.node", node}, {"derpmgr.allocation", "1"}, {"derpmgr.generation", "1"}};
  spec.memory_bytes = 64LL * 1024 * 1024;
  spec.pids_limit = 32;
  spec.log_max_size = "1m";
  spec.log_max_file = 2;
  return spec;
}

// Inspects `id` until it has exited; fails the test after 30 s.
container_details wait_for_exit(docker_client& docker, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    const std::optional<container_details> details = run_awaitable(docker.inspect(id));
    REQUIRE(details.has_value());
    if (details->state == container_state::exited || details->state == container_state::dead) {
      return *details;
    }
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

template <typename T>
docker_error error_of(net::awaitable<T> task) {
  try {
    run_awaitable(std::move(task));
  } catch (const docker_error& e) {
    return e;
  }
  FAIL("expected a docker_error");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("docker engine client: the engine accepts API v1.41") {
  const auto env = derpmgr::test::services::from_env();
  engine_client docker(env.docker_socket);
  const engine_version version = run_awaitable(docker.version());
  CHECK_FALSE(version.version.empty());
  INFO("engine ", version.version, " API ", version.min_api_version, "..", version.api_version);
  CHECK(version.supports_pinned_api());
}

TEST_CASE("docker engine client: image presence") {
  const auto env = derpmgr::test::services::from_env();
  engine_client docker(env.docker_socket);
  CHECK(run_awaitable(docker.image_present(env.test_image)));
  CHECK_FALSE(run_awaitable(docker.image_present("derpmgr-no-such-image:never")));
}

TEST_CASE("docker engine client: create, start, inspect, list, stop and remove a hardened container") {
  const auto env = derpmgr::test::services::from_env();
  engine_client docker(env.docker_socket);
  container_cleanup cleanup(docker);
  const temp_dir certs;
  const std::string node = unique_name("node");

  container_spec spec = test_spec(env, node, {"sleep", "300"});
  spec.binds = {{certs.path().string(), "/certs", true}};
  cleanup.add(spec.name);
  const std::string id = run_awaitable(docker.create(spec));
  CHECK_FALSE(id.empty());

  run_awaitable(docker.start(id));
  run_awaitable(docker.start(id));  // already running: still fine

  const std::optional<container_details> running = run_awaitable(docker.inspect(spec.name));
  REQUIRE(running.has_value());
  CHECK(running->id == id);
  CHECK(running->name == spec.name);
  CHECK(running->state == container_state::running);
  CHECK(running->started_at.rfind("0001-", 0) != 0);
  CHECK(running->config.image == env.test_image);
  CHECK(running->config.args == spec.args);
  CHECK(running->config.labels == spec.labels);
  CHECK(running->config.network_mode == "host");
  CHECK(running->config.read_only_rootfs);
  CHECK(running->config.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(running->config.security_opt == std::vector<std::string>{"no-new-privileges"});
  CHECK(running->config.memory_bytes == spec.memory_bytes);
  CHECK(running->config.pids_limit == spec.pids_limit);
  CHECK(running->config.binds == spec.binds);
  CHECK(running->config.log_max_size == "1m");
  CHECK(running->config.log_max_file == 2);
  CHECK(running->config == spec);

  const std::vector<container_summary> listed = run_awaitable(docker.list_containers("derpmgr.node=" + node));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == id);
  CHECK(listed[0].name == spec.name);
  CHECK(listed[0].state == container_state::running);
  CHECK(listed[0].labels == spec.labels);

  run_awaitable(docker.stop(id, std::chrono::seconds(1)));
  run_awaitable(docker.stop(id, std::chrono::seconds(1)));  // already stopped: still fine
  const std::optional<container_details> stopped = run_awaitable(docker.inspect(id));
  REQUIRE(stopped.has_value());
  CHECK(stopped->state == container_state::exited);

  CHECK(run_awaitable(docker.remove(id, false)));
  CHECK_FALSE(run_awaitable(docker.inspect(id)).has_value());
  CHECK_FALSE(run_awaitable(docker.remove(id, false)));
  CHECK(run_awaitable(docker.list_containers("derpmgr.node=" + node)).empty());
}

TEST_CASE("docker engine client: the root filesystem and a read-only bind cannot be written") {
  const auto env = derpmgr::test::services::from_env();
  engine_client docker(env.docker_socket);
  container_cleanup cleanup(docker);
  const temp_dir certs;
  std::ofstream(certs.path() / "hello") << "hello\n";

  container_spec spec = test_spec(env, unique_name("node"),
                                  {"sh", "-c",
                                   "if touch /probe 2>/dev/null; then exit 10; fi; "
                                   "if touch /certs/probe 2>/dev/null; then exit 11; fi; "
                                   "grep -q hello /certs/hello || exit 12"});
  spec.binds = {{certs.path().string(), "/certs", true}};
  cleanup.add(spec.name);
  const std::string id = run_awaitable(docker.create(spec));
  run_awaitable(docker.start(id));

  const container_details exited = wait_for_exit(docker, id);
  CHECK(exited.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(certs.path() / "probe"));
}

TEST_CASE("docker engine client: listing by our node label returns only our containers") {
  const auto env = derpmgr::test::services::from_env();
  engine_client docker(env.docker_socket);
  container_cleanup cleanup(docker);
  const std::string node = unique_name("node");

  container_spec ours = test_spec(env, node, {"true"});
  container_spec unlabelled = test_spec(env, node, {"true"});
  unlabelled.labels.clear();
  container_spec other_node = test_spec(env, node + "0", {"true"});
  container_spec other_key = test_spec(env, node, {"true"});
  other_key.labels = {{"derpmgr.allocation", node}};
  for (const container_spec* spec : {&ours, &unlabelled, &other_node, &other_key}) {
    cleanup.add(spec->name);
    run_awaitable(docker.create(*spec));
  }

  const std::vector<container_summary> listed = run_awaitable(docker.list_containers("derpmgr.node=" + node));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].name == ours.name);
  CHECK(listed[0].state == container_state::created);
}

TEST_CASE("docker engine client: an unreachable engine names the socket") {
  engine_client docker("/nonexistent/derpmgr/docker.sock");
  const docker_error error = error_of(docker.list_containers("derpmgr.node=1"));
  CHECK(error.failure() == docker_failure::unreachable);
  CHECK(std::string(error.what()) ==
        "list containers labelled derpmgr.node=1: Docker engine not reachable at /nonexistent/derpmgr/docker.sock: "
        "No such file or directory");
}

TEST_CASE("docker engine client: the engine's refusals carry its message") {
  const auto env = derpmgr::test::services::from_env();
  engine_client docker(env.docker_socket);
  container_cleanup cleanup(docker);

  SUBCASE("an image that is not there") {
    container_spec spec = test_spec(env, unique_name("node"), {"true"});
    spec.image = "derpmgr-no-such-image:never";
    cleanup.add(spec.name);
    const docker_error error = error_of(docker.create(spec));
    CHECK(error.failure() == docker_failure::engine);
    CHECK(error.status() == 404);
    CHECK(error.detail().find("No such image: derpmgr-no-such-image:never") != std::string::npos);
    CHECK(std::string(error.what()).find("create container " + spec.name) == 0);
  }

  SUBCASE("a name already taken") {
    const container_spec spec = test_spec(env, unique_name("node"), {"true"});
    cleanup.add(spec.name);
    run_awaitable(docker.create(spec));
    const docker_error error = error_of(docker.create(spec));
    CHECK(error.failure() == docker_failure::engine);
    CHECK(error.status() == 409);
    CHECK(error.detail().find(spec.name) != std::string::npos);
  }

  SUBCASE("starting a container that does not exist") {
    const docker_error error = error_of(docker.start(unique_name("derpmgr_missing")));
    CHECK(error.status() == 404);
    CHECK(error.detail().find("No such container") != std::string::npos);
  }
}
