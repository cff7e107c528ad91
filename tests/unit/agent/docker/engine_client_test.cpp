#include "agent/docker/engine_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "agent/docker/docker_error.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/test_env.hpp"
#include "tests/support/temp_dir.hpp"

using namespace derpmgr::agent;
using derpmgr::test::run_awaitable;

using derpmgr::test::temp_dir;

namespace {

// The docker_error thrown by `task`; fails the test when it throws nothing or something else.
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

TEST_CASE("docker engine client: a missing socket says so, naming the path") {
  const temp_dir dir;
  const std::string socket = (dir.path() / "docker.sock").string();
  engine_client docker(socket);
  const docker_error error = error_of(docker.list_containers("derpmgr.node=1"));
  CHECK(error.failure() == docker_failure::unreachable);
  CHECK(error.detail() == "Docker engine not reachable at " + socket + ": No such file or directory");
}

TEST_CASE("docker engine client: a socket nobody listens on is unreachable") {
  const temp_dir dir;
  const std::string socket = (dir.path() / "docker.sock").string();
  {
    net::io_context io;
    net::local::stream_protocol::acceptor acceptor(io, net::local::stream_protocol::endpoint(socket));
  }
  engine_client docker(socket);
  const docker_error error = error_of(docker.version());
  CHECK(error.failure() == docker_failure::unreachable);
  CHECK(error.detail() == "Docker engine not reachable at " + socket + ": Connection refused");
}

TEST_CASE("docker engine client: an engine that never answers times out") {
  const temp_dir dir;
  const std::string socket = (dir.path() / "docker.sock").string();
  net::io_context io;
  net::local::stream_protocol::acceptor acceptor(io, net::local::stream_protocol::endpoint(socket));
  engine_client docker(socket, std::chrono::milliseconds(200));
  const auto started = std::chrono::steady_clock::now();
  const docker_error error = error_of(docker.inspect("anything"));
  CHECK(error.failure() == docker_failure::timed_out);
  CHECK(error.detail() == "Docker engine at " + socket + " did not answer within 200 ms");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}
