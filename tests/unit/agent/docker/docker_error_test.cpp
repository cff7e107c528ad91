#include "agent/docker/docker_error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace derpmgr::agent;

TEST_CASE("docker_error names the operation, the status and the engine's message") {
  const docker_error error(docker_failure::engine, "create container x", 409, "Conflict. The name is in use");
  CHECK(std::string(error.what()) == "create container x: Docker engine answered 409: Conflict. The name is in use");
  CHECK(error.failure() == docker_failure::engine);
  CHECK(error.status() == 409);
  CHECK(error.detail() == "Conflict. The name is in use");
  CHECK(error.operation() == "create container x");
}

TEST_CASE("docker_error without an answer reads as the transport problem") {
  const docker_error error(docker_failure::unreachable, "list containers labelled a=b", 0,
                           "Docker engine not reachable at /nope.sock: No such file or directory");
  CHECK(std::string(error.what()) ==
        "list containers labelled a=b: Docker engine not reachable at /nope.sock: No such file or directory");
  CHECK(error.status() == 0);
}
