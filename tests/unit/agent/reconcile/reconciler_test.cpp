#include "agent/reconcile/reconciler.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "agent/docker/engine_client.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr::agent;
using derpmgr::protocol::allocation_spec;
using derpmgr::protocol::desired_state;
using derpmgr::test::run_awaitable;

namespace {

// A socket bound to 127.0.0.1 on a port the kernel picks; closed when destroyed.
class bound_socket {
 public:
  explicit bound_socket(int type) : fd_(::socket(AF_INET, type, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    if (type == SOCK_STREAM) {
      REQUIRE(::listen(fd_, 1) == 0);
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~bound_socket() { ::close(fd_); }
  bound_socket(const bound_socket&) = delete;
  bound_socket& operator=(const bound_socket&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace

TEST_CASE("port check: a listener or a bound UDP socket makes the port unavailable") {
  {
    const bound_socket tcp(SOCK_STREAM);
    const auto problem = port_unavailable("127.0.0.1", tcp.port());
    REQUIRE(problem.has_value());
    CHECK(*problem == "port_in_use: TCP 127.0.0.1:" + std::to_string(tcp.port()) + " is already in use on this host");
    CHECK(port_unavailable("", tcp.port()).has_value());  // all addresses include 127.0.0.1
  }
  {
    const bound_socket udp(SOCK_DGRAM);
    const auto problem = port_unavailable("127.0.0.1", udp.port());
    REQUIRE(problem.has_value());
    CHECK(problem->rfind("port_in_use: UDP", 0) == 0);
  }
  int port = 0;
  {
    const bound_socket released(SOCK_STREAM);
    port = released.port();
  }
  CHECK_FALSE(port_unavailable("127.0.0.1", port).has_value());
}

TEST_CASE("port check: addresses that are not this host's or not addresses") {
  CHECK(port_unavailable("192.0.2.77", 40000).value_or("").rfind("bind_ip_unavailable", 0) == 0);
  CHECK(port_unavailable("not-an-ip", 40000).value_or("").rfind("invalid_bind_ip", 0) == 0);
}

TEST_CASE("reconciler: an unreachable engine is a node-wide error and every allocation reports it") {
  engine_client docker("/nonexistent/derpmgr/docker.sock");
  reconciler_options options;
  options.layout.state_dir = std::filesystem::temp_directory_path() / derpmgr::test::unique_name("reconciler_unit");
  reconciler rec(docker, options);
  allocation_spec spec;
  spec.id = 5;
  spec.config_version = 2;
  const reconcile_result result = run_awaitable(rec.converge(desired_state{1, 9, {spec}}));
  CHECK(result.generation == 9);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].rfind("docker_unreachable: ", 0) == 0);
  REQUIRE(result.allocations.size() == 1);
  CHECK(result.allocations[0].id == 5);
  CHECK(result.allocations[0].config_version == 2);
  CHECK(result.allocations[0].state == "error");
  CHECK_FALSE(result.changed);
  CHECK_FALSE(std::filesystem::exists(options.layout.state_dir));  // nothing written while Docker is away

  CHECK_THROWS_AS(run_awaitable(rec.converge(desired_state{0, 1, {}})), std::invalid_argument);
}
