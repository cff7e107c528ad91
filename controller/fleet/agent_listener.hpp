#pragma once

#include <cstdint>
#include <memory>

#include "controller/fleet/allocation_repository.hpp"
#include "shared/net/listen_address.hpp"

namespace boost::asio {
class io_context;
}

namespace derpmgr {
class certificate_authority;
}

namespace derpmgr::controller {
struct app_services;
}

namespace derpmgr::controller::fleet {

class fleet_hub;

struct agent_listener_options {
  listen_address listen;
  double handshakes_per_second = 100;
  double handshake_burst = 200;
  double per_ip_per_second = 20;
  double per_ip_burst = 50;
  container_profile profile;
  std::chrono::seconds ping_interval{15};
  std::chrono::seconds silence_limit{45};
};

// The agents' listener (:8444): TLS with a server certificate from the internal CA (sent with the CA, which
// enrolling agents pin), `POST /agent/v1/enroll` without a client certificate, and the `/agent/v1/connect`
// WebSocket only for an unexpired client certificate from the CA whose serial is the node's current one.
class agent_listener {
 public:
  agent_listener(boost::asio::io_context& ioc, agent_listener_options options, const certificate_authority& ca,
                 fleet_hub& hub, app_services& services);
  ~agent_listener();
  agent_listener(const agent_listener&) = delete;
  agent_listener& operator=(const agent_listener&) = delete;

  // Binds and starts accepting; throws std::system_error when the address can't be bound.
  void start();
  void stop();
  std::uint16_t port() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace derpmgr::controller::fleet
