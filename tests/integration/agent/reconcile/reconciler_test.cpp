// The reconciler against the real dockerd.
//
// Image: by default the busybox test image (DERPMGR_TEST_IMAGE), which has no derper; the reconciler's test-only
// command prefix `sh -c <script> derper` runs a script before derper's flags, which sh takes as positional
// parameters. The script finds -hostname among them, reads /certs/<host>.key (proving that root without any
// capability can read the agent's 0600 root-owned key through the read-only bind), writes /data/started (the writable
// bind) and sleeps. With DERPMGR_TEST_DERPER_IMAGE set (the derper stand-in, entrypoint derper), the same tests run
// that image with no prefix and real certificates for 127.0.0.1.
#include "agent/reconcile/reconciler.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "agent/docker/docker_error.hpp"
#include "agent/docker/engine_client.hpp"
#include "shared/tls/x509.hpp"
#include "tests/support/run_awaitable.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr::agent;
using derpmgr::protocol::allocation_spec;
using derpmgr::protocol::allocation_status;
using derpmgr::protocol::desired_state;
using derpmgr::test::run_awaitable;
using derpmgr::test::unique_name;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

constexpr const char* keep_up_script =
    "h=; while [ $# -gt 0 ]; do if [ \"$1\" = -hostname ]; then h=$2; fi; shift; done; "
    "cat \"/certs/$h.key\" >/dev/null || exit 41; touch /data/started || exit 42; exec sleep 3600";

std::string derper_image() {
  const char* image = std::getenv("DERPMGR_TEST_DERPER_IMAGE");
  return image != nullptr && *image != '\0' ? image : "";
}

// A node id no other test run uses.
std::int64_t random_node_id() {
  std::random_device device;
  std::uniform_int_distribution<std::int64_t> pick(100'000'000'000, 999'999'999'999);
  return pick(device);
}

// A TCP and UDP port free on 127.0.0.1 right now.
int free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    const int port = ntohs(address.sin_port);
    if (!port_unavailable("127.0.0.1", port)) {
      return port;
    }
  }
  FAIL("no free port");
  return 0;
}

// A socket holding 127.0.0.1:port (TCP listening, or UDP bound) until destroyed.
class port_holder {
 public:
  port_holder(int port, int type) : fd_(::socket(AF_INET, type, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    if (type == SOCK_STREAM) {
      REQUIRE(::listen(fd_, 4) == 0);
    }
  }
  ~port_holder() { release(); }
  port_holder(const port_holder&) = delete;
  port_holder& operator=(const port_holder&) = delete;
  void release() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_;
};

// One fake node: its own id, state dir and reconciler on a manual steady clock; removes every container labelled
// with its id (and any other container it was told about) and its state dir when the test ends.
class node_fixture {
 public:
  explicit node_fixture(std::vector<std::string> prefix_override = {}, bool force_busybox = false)
      : env_(derpmgr::test::services::from_env()),
        docker_(env_.docker_socket),
        node_id_(random_node_id()),
        state_dir_(fs::temp_directory_path() / unique_name("reconciler")),
        now_(steady::now()) {
    const std::string stand_in = force_busybox ? "" : derper_image();
    image_ = stand_in.empty() ? env_.test_image : stand_in;
    busybox_ = stand_in.empty();
    options_.layout.state_dir = state_dir_;
    options_.layout.admission_port = 7946;
    options_.layout.default_memory_bytes = 64LL << 20;
    options_.layout.default_pids_limit = 64;
    if (!prefix_override.empty()) {
      options_.layout.command_prefix = std::move(prefix_override);
    } else if (busybox_) {
      options_.layout.command_prefix = {"sh", "-c", keep_up_script, "derper"};
    }
    options_.start_check_delay = std::chrono::milliseconds(700);
    reconciler_ = std::make_unique<reconciler>(docker_, options_, [this] { return now_; });
  }
  ~node_fixture() {
    try {
      for (const container_summary& c : list()) {
        run_awaitable(docker_.remove(c.id, true));
      }
      for (const std::string& name : extra_containers_) {
        run_awaitable(docker_.remove(name, true));
      }
    } catch (const std::exception&) {
      // The engine went away; the test has already said what matters.
    }
    std::error_code ignored;
    fs::remove_all(state_dir_, ignored);
  }
  node_fixture(const node_fixture&) = delete;
  node_fixture& operator=(const node_fixture&) = delete;

  allocation_spec allocation(std::int64_t id) {
    allocation_spec spec;
    spec.id = id;
    spec.config_version = 1;
    spec.image = image_;
    spec.bind_ip = "127.0.0.1";
    spec.public_host = "127.0.0.1";
    spec.port = free_port();
    spec.admission_token = "tok" + std::to_string(id);
    const derpmgr::pem_pair pair = derpmgr::make_self_signed(spec.public_host, std::chrono::hours(24));
    spec.cert_pem = pair.cert_pem;
    spec.key_pem = pair.key_pem;
    spec.allowed_keys = {"nodekey:" + std::string(64, 'a')};
    return spec;
  }
  desired_state desired(std::vector<allocation_spec> allocations, std::int64_t generation = 1) const {
    std::sort(allocations.begin(), allocations.end(),
              [](const allocation_spec& a, const allocation_spec& b) { return a.id < b.id; });
    return desired_state{node_id_, generation, std::move(allocations)};
  }
  reconcile_result converge(const desired_state& state) { return run_awaitable(reconciler_->converge(state)); }

  std::vector<container_summary> list() {
    return run_awaitable(docker_.list_containers(std::string(node_label) + "=" + std::to_string(node_id_)));
  }
  // Allocation id → container id of the containers labelled with this node; fails on a duplicate.
  std::map<std::int64_t, container_summary> by_allocation() {
    std::map<std::int64_t, container_summary> result;
    for (const container_summary& c : list()) {
      const std::int64_t id = std::stoll(c.labels.at(allocation_label));
      CHECK_MESSAGE(!result.contains(id), "duplicate container for allocation ", id);
      result[id] = c;
    }
    return result;
  }
  container_details inspect(const std::string& id) {
    auto details = run_awaitable(docker_.inspect(id));
    REQUIRE(details.has_value());
    return *details;
  }

  // A fresh reconciler over the same node and state dir: the agent after a restart.
  void restart_agent() {
    reconciler_ = std::make_unique<reconciler>(docker_, options_, [this] { return now_; });
  }
  void advance(std::chrono::seconds d) { now_ += d; }
  void also_remove(std::string name) { extra_containers_.push_back(std::move(name)); }

  engine_client& docker() { return docker_; }
  reconciler& rec() { return *reconciler_; }
  const container_layout& layout() const { return reconciler_->layout(); }
  std::int64_t node_id() const { return node_id_; }
  bool busybox() const { return busybox_; }
  const std::string& image() const { return image_; }
  const fs::path& state_dir() const { return state_dir_; }

 private:
  derpmgr::test::services env_;
  engine_client docker_;
  std::int64_t node_id_;
  fs::path state_dir_;
  std::string image_;
  bool busybox_ = true;
  reconciler_options options_;
  steady::time_point now_;
  std::unique_ptr<reconciler> reconciler_;
  std::vector<std::string> extra_containers_;
};

const allocation_status& status_of(const reconcile_result& result, std::int64_t id) {
  for (const allocation_status& status : result.allocations) {
    if (status.id == id) {
      return status;
    }
  }
  FAIL("no status for allocation ", id);
  throw std::logic_error("unreachable");
}

void check_all_running(const reconcile_result& result, std::size_t count) {
  CHECK(result.errors.empty());
  REQUIRE(result.allocations.size() == count);
  for (const allocation_status& status : result.allocations) {
    INFO("allocation ", status.id, ": ", status.state, " ", status.error);
    CHECK(status.state == "running");
    CHECK(status.error.empty());
  }
}

}  // namespace

TEST_CASE("reconciler: creates the desired containers, hardened and labelled, then leaves them be") {
  node_fixture node;
  std::vector<allocation_spec> specs{node.allocation(1), node.allocation(2), node.allocation(3)};
  specs[2].rate_bytes_per_sec = 1'000'000;
  specs[2].rate_burst_bytes = 2'000'000;
  const desired_state state = node.desired(specs, 4);

  const reconcile_result first = node.converge(state);
  CHECK(first.generation == 4);
  CHECK(first.changed);
  check_all_running(first, 3);

  auto containers = node.by_allocation();
  REQUIRE(containers.size() == 3);
  for (const allocation_spec& spec : specs) {
    CAPTURE(spec.id);
    const container_summary& c = containers.at(spec.id);
    CHECK(c.name == container_name(node.node_id(), spec.id));
    CHECK(c.state == container_state::running);
    const container_details details = node.inspect(c.id);
    CHECK_FALSE(needs_recreate(details.config, node.layout().spec_for(node.node_id(), spec)));
    CHECK(details.config.labels.at("derpmgr.generation") == "1");
    CHECK(details.config.read_only_rootfs);
    CHECK(details.config.cap_drop == std::vector<std::string>{"ALL"});
    CHECK(details.config.network_mode == "host");
    CHECK(details.config.memory_bytes == 64LL << 20);
    CHECK(node.layout().files_match(spec));
    if (node.busybox()) {
      // The script read the 0600 key as capability-less root and wrote to /data.
      CHECK(fs::exists(node.layout().paths(spec).data_dir / "started"));
    }
  }
  CHECK(fs::exists(node.layout().paths(specs[2]).rate_file));
  CHECK(node.rec().observed().size() == 3);
  for (const auto& seen : node.rec().observed()) {
    CHECK(seen.state == "running");
  }

  const reconcile_result second = node.converge(state);
  CHECK_FALSE(second.changed);
  check_all_running(second, 3);
  const auto again = node.by_allocation();
  for (const auto& [id, c] : containers) {
    CHECK(again.at(id).id == c.id);
  }
}

TEST_CASE("reconciler: a new config version or new certificate recreates exactly that container") {
  node_fixture node;
  std::vector<allocation_spec> specs{node.allocation(1), node.allocation(2), node.allocation(3)};
  check_all_running(node.converge(node.desired(specs)), 3);
  const auto before = node.by_allocation();

  specs[1].config_version = 2;
  check_all_running(node.converge(node.desired(specs, 2)), 3);
  auto after = node.by_allocation();
  REQUIRE(after.size() == 3);
  CHECK(after.at(1).id == before.at(1).id);
  CHECK(after.at(2).id != before.at(2).id);
  CHECK(after.at(2).labels.at("derpmgr.generation") == "2");
  CHECK(after.at(3).id == before.at(3).id);

  // A renewed certificate at the same config version: the files differ, so the container is recreated too.
  const derpmgr::pem_pair renewed = derpmgr::make_self_signed("127.0.0.1", std::chrono::hours(48));
  specs[2].cert_pem = renewed.cert_pem;
  specs[2].key_pem = renewed.key_pem;
  check_all_running(node.converge(node.desired(specs, 3)), 3);
  const auto last = node.by_allocation();
  CHECK(last.at(1).id == before.at(1).id);
  CHECK(last.at(2).id == after.at(2).id);
  CHECK(last.at(3).id != before.at(3).id);
  CHECK(derpmgr::read_file(node.layout().paths(specs[2]).cert_file) == renewed.cert_pem);
}

TEST_CASE("reconciler: an allocation no longer desired loses its container and its files") {
  node_fixture node;
  std::vector<allocation_spec> specs{node.allocation(1), node.allocation(2)};
  check_all_running(node.converge(node.desired(specs)), 2);
  const fs::path gone_dir = node.layout().paths(specs[1]).root;
  REQUIRE(fs::exists(gone_dir));
  const auto before = node.by_allocation();

  specs.pop_back();
  const reconcile_result result = node.converge(node.desired(specs, 2));
  check_all_running(result, 1);
  CHECK(result.changed);
  const auto after = node.by_allocation();
  REQUIRE(after.size() == 1);
  CHECK(after.at(1).id == before.at(1).id);
  CHECK_FALSE(fs::exists(gone_dir));
  CHECK(fs::exists(node.layout().paths(specs[0]).root));
  REQUIRE(node.rec().observed().size() == 1);
  CHECK(node.rec().observed()[0].allocation_id == 1);

  check_all_running(node.converge(node.desired({}, 3)), 0);
  CHECK(node.list().empty());
  CHECK(node.layout().allocations_on_disk().empty());
}

TEST_CASE("reconciler: a container killed behind its back is started again on the next pass") {
  node_fixture node;
  const std::vector<allocation_spec> specs{node.allocation(1)};
  check_all_running(node.converge(node.desired(specs)), 1);
  const container_summary original = node.by_allocation().at(1);
  const std::string started_before = node.inspect(original.id).started_at;

  run_awaitable(node.docker().stop(original.id, std::chrono::seconds(0)));  // SIGKILL at once
  REQUIRE(node.inspect(original.id).state == container_state::exited);

  const reconcile_result result = node.converge(node.desired(specs));
  check_all_running(result, 1);
  const container_details restarted = node.inspect(original.id);  // the same container, started again
  CHECK(restarted.state == container_state::running);
  CHECK(restarted.started_at != started_before);
}

TEST_CASE("reconciler: a container that exits at once is reported with its code and restarted with backoff") {
  node_fixture node({"sh", "-c", "exit 3", "derper"}, true);
  const std::vector<allocation_spec> specs{node.allocation(1)};

  const reconcile_result first = node.converge(node.desired(specs));
  CHECK(status_of(first, 1).state == "error");
  CHECK(status_of(first, 1).error.find("exited with code 3") != std::string::npos);
  const std::string id = node.by_allocation().at(1).id;

  // The first death is retried at once; the next waits.
  const reconcile_result second = node.converge(node.desired(specs));
  CHECK(status_of(second, 1).state == "error");
  CHECK(status_of(second, 1).error.find("restarting in 5s") != std::string::npos);
  const std::string second_start = node.inspect(id).started_at;

  const reconcile_result third = node.converge(node.desired(specs));
  CHECK(status_of(third, 1).state == "error");
  CHECK(status_of(third, 1).error.find("exited with code 3") != std::string::npos);
  CHECK(node.inspect(id).started_at == second_start);  // not restarted during the backoff

  node.advance(std::chrono::seconds(6));
  const reconcile_result fourth = node.converge(node.desired(specs));
  CHECK(node.inspect(id).started_at != second_start);
  CHECK(status_of(fourth, 1).error.find("restarting in 10s") != std::string::npos);
  CHECK(node.by_allocation().size() == 1);
}

TEST_CASE("reconciler: containers without our labels or with another node's are never touched") {
  node_fixture node;
  container_spec foreign;
  foreign.image = node.image();
  foreign.args = {"sleep", "3600"};
  if (!node.busybox()) {
    foreign.image = derpmgr::test::services::from_env().test_image;
  }
  container_spec other_node = foreign;
  other_node.name = unique_name("derpmgr_other_node");
  other_node.labels = {
      {"derpmgr.node", std::to_string(node.node_id() + 1)}, {"derpmgr.allocation", "1"}, {"derpmgr.generation", "1"}};
  container_spec unlabelled = foreign;
  unlabelled.name = unique_name("derpmgr_unlabelled");
  std::vector<std::string> foreign_ids;
  for (const container_spec* spec : {&other_node, &unlabelled}) {
    node.also_remove(spec->name);
    const std::string id = run_awaitable(node.docker().create(*spec));
    run_awaitable(node.docker().start(id));
    foreign_ids.push_back(id);
  }

  const std::vector<allocation_spec> specs{node.allocation(1)};
  check_all_running(node.converge(node.desired(specs)), 1);
  check_all_running(node.converge(node.desired({}, 2)), 0);
  for (const std::string& id : foreign_ids) {
    const container_details details = node.inspect(id);
    CHECK(details.state == container_state::running);
    CHECK(details.started_at.rfind("0001-", 0) != 0);
  }
  CHECK(node.list().empty());
}

TEST_CASE("reconciler: after a crash, duplicates, orphans and half-made containers are cleaned up") {
  node_fixture node;
  std::vector<allocation_spec> specs{node.allocation(1), node.allocation(2)};
  check_all_running(node.converge(node.desired(specs)), 2);
  const std::string keeper = node.by_allocation().at(1).id;

  // What a crash mid-convergence can leave: a second container for allocation 1, a container for allocation 99
  // that is no longer desired, a folder with no container, and allocation 2 created but never started.
  container_spec duplicate = node.layout().spec_for(node.node_id(), specs[0]);
  duplicate.name += "-dup";
  node.also_remove(duplicate.name);
  run_awaitable(node.docker().start(run_awaitable(node.docker().create(duplicate))));
  allocation_spec orphan = node.allocation(99);
  node.layout().write_files(orphan);
  run_awaitable(node.docker().create(node.layout().spec_for(node.node_id(), orphan)));
  fs::create_directories(node.layout().allocations_dir() / "98" / "data");
  for (const container_summary& c : node.list()) {
    if (c.labels.at(allocation_label) == "2") {
      run_awaitable(node.docker().remove(c.id, true));
    }
  }
  const std::string half_made = run_awaitable(node.docker().create(node.layout().spec_for(node.node_id(), specs[1])));
  CHECK(node.list().size() == 4);

  node.restart_agent();
  const reconcile_result result = node.converge(node.desired(specs));
  check_all_running(result, 2);
  const auto after = node.by_allocation();
  REQUIRE(after.size() == 2);
  CHECK(after.at(1).id == keeper);     // the canonical one kept
  CHECK(after.at(2).id == half_made);  // started, not recreated
  CHECK(node.list().size() == 2);
  CHECK(node.layout().allocations_on_disk() == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("reconciler: a port already taken is an error for that allocation, checked again only after a while") {
  node_fixture node;
  allocation_spec spec = node.allocation(1);
  allocation_spec fine = node.allocation(2);

  SUBCASE("taken over TCP") {
    port_holder holder(spec.port, SOCK_STREAM);
    const reconcile_result first = node.converge(node.desired({spec, fine}));
    CHECK(status_of(first, 1).state == "error");
    CHECK(status_of(first, 1).error.rfind("port_in_use", 0) == 0);
    CHECK(status_of(first, 2).state == "running");
    auto containers = node.by_allocation();
    CHECK_FALSE(containers.contains(1));
    CHECK(containers.contains(2));

    holder.release();
    const reconcile_result second = node.converge(node.desired({spec, fine}));
    CHECK(status_of(second, 1).error.rfind("port_in_use", 0) == 0);  // remembered, not retried every pass
    CHECK_FALSE(node.by_allocation().contains(1));

    node.advance(std::chrono::seconds(61));
    check_all_running(node.converge(node.desired({spec, fine})), 2);
    CHECK(node.by_allocation().contains(1));
  }
  SUBCASE("taken over UDP; a changed spec is checked again at once") {
    port_holder holder(spec.port, SOCK_DGRAM);
    const reconcile_result first = node.converge(node.desired({spec}));
    CHECK(status_of(first, 1).error.rfind("port_in_use: UDP 127.0.0.1:" + std::to_string(spec.port), 0) == 0);
    CHECK(node.list().empty());

    spec.port = free_port();
    spec.config_version = 2;
    check_all_running(node.converge(node.desired({spec}, 2)), 1);
  }
}

TEST_CASE("reconciler: a missing image is an error for that allocation only") {
  node_fixture node;
  allocation_spec missing = node.allocation(1);
  missing.image = "derpmgr-no-such-image:never";
  const allocation_spec fine = node.allocation(2);
  const reconcile_result result = node.converge(node.desired({missing, fine}));
  CHECK(status_of(result, 1).state == "error");
  CHECK(status_of(result, 1).error.rfind("image_missing", 0) == 0);
  CHECK(status_of(result, 2).state == "running");
  CHECK(node.list().size() == 1);
}
