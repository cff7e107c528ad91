// The agent's channel against a real controller, in-process: certificate renewal over the channel, generation
// gaps answered with a snapshot, and an expired certificate that keeps the agent off the channel.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <mutex>
#include <thread>

#include "agent/channel/agent_identity.hpp"
#include "agent/channel/controller_channel.hpp"
#include "agent/channel/enroll_command.hpp"
#include "controller/fleet/ca_files.hpp"
#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/random.hpp"
#include "tests/integration/fleet/fleet_support.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;

namespace {

// A channel handler that records what the channel gives it; `skew` pretends to hold another generation.
class recording_handler final : public agent::channel_handler {
 public:
  protocol::hello hello() override { return {}; }
  const protocol::desired_state& desired() const override { return held_; }
  void apply(protocol::desired_state state) override {
    std::lock_guard lock(mutex_);
    applied_.push_back(state);
    held_ = std::move(state);
    held_.generation += skew;
  }
  std::optional<protocol::status> latest_status() override { return std::nullopt; }

  std::vector<protocol::desired_state> applied() {
    std::lock_guard lock(mutex_);
    return applied_;
  }
  std::int64_t skew = 0;

 private:
  std::mutex mutex_;
  protocol::desired_state held_;
  std::vector<protocol::desired_state> applied_;
};

// A channel on its own io_context thread.
struct running_channel {
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  agent::controller_channel channel;
  std::thread thread;

  running_channel(agent::channel_options options, agent::channel_handler& handler)
      : channel(ioc.get_executor(), std::move(options), handler) {
    channel.start();
    thread = std::thread([this] { ioc.run(); });
  }
  ~running_channel() {
    channel.stop();
    std::this_thread::sleep_for(300ms);
    work.reset();
    ioc.stop();
    thread.join();
  }
};

struct enrolled {
  std::int64_t node_id;
  std::filesystem::path state;
};

enrolled enroll(fleet_controller& fc, const std::string& name) {
  int base = random_port_base();
  auto node = fc.create_node(name, "127.0.0.5", base, base + 9);
  auto state = std::filesystem::temp_directory_path() / ("derpmgr-channel-" + random_hex(4));
  auto id = agent::enroll_agent(state, fc.c.agents_url(),
                                std::string(node.at("enrollment").as_object().at("token").as_string()));
  CHECK(id == node.at("id").as_int64());
  return {id, state};
}

std::string serial_on_disk(const std::filesystem::path& state) {
  return inspect_certificate(agent::agent_identity::load(state)->cert_pem).serial_hex;
}

}  // namespace

TEST_CASE("an agent renews its certificate over the channel and then connects with the new one") {
  fleet_controller fc;
  auto node = enroll(fc, "renew");
  auto first_serial = serial_on_disk(node.state);
  auto id = std::to_string(node.node_id);
  CHECK(fc.c.db.scalar("SELECT cert_serial FROM nodes WHERE id = " + id) == first_serial);

  recording_handler handler;
  agent::channel_options options;
  options.state_dir = node.state;
  options.renew_from = 0.0;  // due at once
  options.renew_to = 0.0;
  {
    running_channel ch(options, handler);
    REQUIRE(wait_until([&] { return serial_on_disk(node.state) != first_serial; }, 15s));
    auto renewed = serial_on_disk(node.state);
    CHECK(fc.c.db.scalar("SELECT cert_serial FROM nodes WHERE id = " + id) == renewed);
    // The old certificate stays acceptable until the agent has used the new one.
    CHECK(fc.c.db.scalar("SELECT prev_cert_serial FROM nodes WHERE id = " + id) == first_serial);
    CHECK(ch.channel.sessions() == 1);
  }
  options.renew_from = 0.5;
  options.renew_to = 0.66;
  running_channel again(options, handler);
  REQUIRE(wait_until([&] { return again.channel.sessions() == 1 && again.channel.connected(); }, 15s));
  CHECK(wait_until([&] { return fc.c.db.scalar("SELECT prev_cert_serial FROM nodes WHERE id = " + id).empty(); }, 5s));
  std::filesystem::remove_all(node.state);
}

TEST_CASE("a generation gap makes the agent ask for a snapshot") {
  fleet_controller fc;
  auto node = enroll(fc, "gap");
  recording_handler handler;
  agent::channel_options options;
  options.state_dir = node.state;
  running_channel ch(options, handler);
  REQUIRE(wait_until([&] { return handler.applied().size() == 1; }, 15s));
  auto first = handler.applied().front();
  CHECK(first.node_id == node.node_id);
  CHECK(first.allocations.empty());

  // From now on the handler claims another generation, so the next delta does not apply.
  handler.skew = 100;
  auto alloc = fc.create_allocation(node.node_id, {random_node_key()});
  REQUIRE(wait_until([&] { return handler.applied().size() >= 2; }, 15s));
  auto second = handler.applied()[1];
  // What arrived is a whole snapshot with the allocation, not the delta on top of a wrong base.
  REQUIRE(second.allocations.size() == 1);
  CHECK(second.allocations[0].id == alloc.at("id").as_int64());
  CHECK(second.allocations[0].port == alloc.at("port").as_int64());
  CHECK(second.generation > first.generation);
  std::filesystem::remove_all(node.state);
}

TEST_CASE("an agent whose certificate expired stays off the channel") {
  fleet_controller fc;
  auto node = enroll(fc, "expired");
  auto identity = *agent::agent_identity::load(node.state);
  auto ca = controller::fleet::load_ca(fc.c.ca_dir());
  certificate_request req;
  identity.key_pem = generate_ec_key_pem();
  req.csr_pem = make_csr(identity.key_pem);
  req.common_name = "node-" + std::to_string(node.node_id);
  auto now = std::chrono::system_clock::now();
  req.not_before = now - 48h;
  req.not_after = now - 1h;
  identity.cert_pem = ca.issue(req).cert_pem;
  identity.save(node.state);

  recording_handler handler;
  agent::channel_options options;
  options.state_dir = node.state;
  running_channel ch(options, handler);
  std::this_thread::sleep_for(3s);
  CHECK(ch.channel.sessions() == 0);
  CHECK(handler.applied().empty());
  std::filesystem::remove_all(node.state);
}
