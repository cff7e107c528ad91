#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>

#include "agent/admission/admission_server.hpp"
#include "agent/admission/admission_table.hpp"
#include "agent/app/agent_config.hpp"
#include "agent/channel/controller_channel.hpp"
#include "agent/docker/docker_client.hpp"
#include "agent/reconcile/desired_store.hpp"
#include "agent/reconcile/reconciler.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::agent {

// Test seams for the runtime; production uses the defaults.
struct runtime_options {
  std::chrono::milliseconds reconcile_interval{5000};
  std::vector<std::string> command_prefix;  // see layout_options (tests with a plain busybox image)
  channel_options channel;  // state_dir, controller_url, agent_version and the ping settings come from the config
};

// One running agent: the persisted desired state, the admission endpoint answering from it, the reconciler
// converging Docker to it (after every change and every few seconds), and the channel that brings changes and
// carries status back. Keeps running, and converging, while the controller is unreachable.
class agent_runtime final : public channel_handler {
 public:
  agent_runtime(net::any_io_executor executor, agent_config config, std::shared_ptr<docker_client> docker,
                runtime_options options = {});
  ~agent_runtime() override;

  // Loads the persisted desired state, starts the admission endpoint (throws when it cannot bind), the reconcile
  // loop and the channel.
  void start();
  void stop();

  std::uint16_t admission_port() const;
  const controller_channel& channel() const { return *channel_; }

  protocol::hello hello() override;
  const protocol::desired_state& desired() const override { return desired_; }
  void apply(protocol::desired_state state) override;
  std::optional<protocol::status> latest_status() override;

 private:
  static net::awaitable<void> reconcile_loop(agent_runtime* self, std::shared_ptr<bool> alive);

  net::any_io_executor executor_;
  agent_config config_;
  std::shared_ptr<docker_client> docker_;
  runtime_options options_;
  system_clock clock_;
  desired_store store_;
  admission_table table_;
  std::unique_ptr<admission_server> admission_;
  std::unique_ptr<reconciler> reconciler_;
  std::unique_ptr<controller_channel> channel_;
  net::steady_timer wake_;
  protocol::desired_state desired_;
  std::optional<protocol::status> status_;
  std::string docker_version_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace derpmgr::agent
