#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "shared/net/net.hpp"
#include "shared/protocol/messages.hpp"

namespace derpmgr::agent {

// What the channel needs from the rest of the agent. Called on the channel's executor.
class channel_handler {
 public:
  virtual ~channel_handler() = default;
  // The hello for a new session: containers seen, the generation applied.
  virtual protocol::hello hello() = 0;
  // The desired state held now (generation 0: none yet).
  virtual const protocol::desired_state& desired() const = 0;
  // Persists a new desired state and starts converging to it.
  virtual void apply(protocol::desired_state state) = 0;
  // The latest status (the channel sends it when it differs from what it sent last).
  virtual std::optional<protocol::status> latest_status() = 0;
};

struct channel_options {
  std::filesystem::path state_dir;  // identity files (agent_identity)
  std::string controller_url;       // overrides the enrolled URL when set
  std::string agent_version;
  std::chrono::seconds ping_interval{15};
  std::chrono::seconds silence_limit{45};
  std::chrono::seconds healthy_after{60};   // a session this long resets the backoff
  double renew_from = 0.50;                 // renew at a random point of this part of the certificate's life
  double renew_to = 0.66;
  std::chrono::minutes renew_retry{10};     // ask again when a renewal got no answer
  std::uint64_t seed = 0;                   // 0: random
};

// The agent's side of protocol v1: dials the controller over mutual TLS, keeps the session alive, applies
// snapshots and deltas (asking for a snapshot on a generation gap), reports status, renews its certificate, and
// reconnects with capped exponential backoff and full jitter.
class controller_channel {
 public:
  controller_channel(net::any_io_executor executor, channel_options options, channel_handler& handler);
  ~controller_channel();
  controller_channel(const controller_channel&) = delete;
  controller_channel& operator=(const controller_channel&) = delete;

  void start();
  // Ends the current session and stops reconnecting.
  void stop();
  // Makes the writer look for a new status now rather than at its next tick.
  void nudge();
  bool connected() const;
  int sessions() const;  // sessions established so far

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace derpmgr::agent
