#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "controller/fleet/allocation_repository.hpp"
#include "controller/fleet/fleet_hub.hpp"
#include "shared/protocol/messages.hpp"

namespace derpmgr {
class certificate_authority;
}

namespace derpmgr::controller {
struct app_services;
}

namespace derpmgr::controller::fleet {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using agent_websocket = boost::beast::websocket::stream<tls_stream>;
using upgrade_request = boost::beast::http::request<boost::beast::http::string_body>;

// What every agent session on this replica shares.
struct session_context {
  app_services& services;
  fleet_hub& hub;
  const certificate_authority& ca;
  container_profile profile;
  std::chrono::seconds ping_interval{15};
  std::chrono::seconds silence_limit{45};
};

// One agent's channel (protocol v1): hello/welcome, the desired snapshot and then deltas as the node's
// generation grows, status reports, certificate renewal, pings. One strand; only the writer writes.
class agent_session : public live_session, public std::enable_shared_from_this<agent_session> {
 public:
  agent_session(agent_websocket ws, const session_context& context, std::uint64_t node_id, std::string serial);

  // Accepts the WebSocket upgrade and runs the session until either side ends it.
  static net::awaitable<void> run(std::shared_ptr<agent_session> self, upgrade_request upgrade);
  void close_soon(std::string reason) override;
  void wake() override;

 private:
  static net::awaitable<void> writer(std::shared_ptr<agent_session> self);
  static net::awaitable<void> handle(std::shared_ptr<agent_session> self, protocol::frame f);
  static net::awaitable<void> send_desired(std::shared_ptr<agent_session> self, bool snapshot);
  static net::awaitable<void> record_start(std::shared_ptr<agent_session> self, protocol::hello hello);
  static net::awaitable<void> record_seen(std::shared_ptr<agent_session> self);
  static net::awaitable<void> record_end(std::shared_ptr<agent_session> self);
  void queue(std::string frame);
  // On the strand: the writer takes another turn at once (also when it is busy rather than waiting).
  void nudge();

  agent_websocket ws_;
  const session_context& ctx_;
  std::uint64_t node_id_;
  std::string serial_;
  net::steady_timer wake_;
  std::deque<std::string> outbox_;
  protocol::desired_state sent_;
  bool snapshot_wanted_ = false;
  bool nudged_ = false;
  bool writer_done_ = false;
  std::string close_reason_;
  std::chrono::steady_clock::time_point last_heard_;
  std::chrono::steady_clock::time_point ping_sent_{};
  std::optional<double> rtt_ms_;
  time_point started_at_{};
};

}  // namespace derpmgr::controller::fleet
