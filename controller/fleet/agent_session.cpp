#include "controller/fleet/agent_session.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "controller/app/app_services.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/statements.hpp"
#include "controller/fleet/enrollment.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/certificate_authority.hpp"

namespace derpmgr::controller::fleet {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string host_json(const protocol::host_facts& h) {
  return json::serialize(json::object{{"hostname", h.hostname.substr(0, 253)},
                                      {"docker_version", h.docker_version.substr(0, 64)},
                                      {"kernel", h.kernel.substr(0, 128)}});
}

}  // namespace

agent_session::agent_session(agent_websocket ws, const session_context& context, std::uint64_t node_id,
                             std::string serial)
    : ws_(std::move(ws)),
      ctx_(context),
      node_id_(node_id),
      serial_(std::move(serial)),
      wake_(ws_.get_executor()),
      last_heard_(steady::now()) {}

void agent_session::close_soon(std::string reason) {
  auto self = shared_from_this();
  net::post(ws_.get_executor(), [self, reason = std::move(reason)]() mutable {
    if (self->close_reason_.empty()) {
      self->close_reason_ = std::move(reason);
    }
    self->nudge();
  });
}

void agent_session::wake() {
  auto self = shared_from_this();
  net::post(ws_.get_executor(), [self] { self->nudge(); });
}

void agent_session::nudge() {
  nudged_ = true;
  wake_.cancel();
}

void agent_session::queue(std::string frame) {
  outbox_.push_back(std::move(frame));
  nudge();
}

net::awaitable<void> agent_session::run(std::shared_ptr<agent_session> self, upgrade_request upgrade) {
  auto& ws = self->ws_;
  // keep_alive_pings must be on: without it Beast arms the idle timer once per async_read and never re-arms it for
  // control frames, so an idle agent that only answers pings is cut off every silence_limit.
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(10), self->ctx_.silence_limit, true});
  ws.read_message_max(4 * 1024 * 1024);
  ws.control_callback([raw = self.get()](websocket::frame_type kind, beast::string_view) {
    raw->last_heard_ = steady::now();
    if (kind == websocket::frame_type::pong && raw->ping_sent_ != steady::time_point{}) {
      raw->rtt_ms_ = std::chrono::duration<double, std::milli>(steady::now() - raw->ping_sent_).count();
    }
  });
  auto [aec] = co_await ws.async_accept(upgrade, use_tuple);
  if (aec) {
    co_return;
  }
  beast::flat_buffer buffer;
  auto [hec, hn] = co_await ws.async_read(buffer, use_tuple);
  if (hec) {
    co_return;
  }
  protocol::hello hello;
  std::string refusal;
  try {
    auto f = protocol::parse_frame(beast::buffers_to_string(buffer.data()));
    if (f.type != "hello") {
      throw protocol::protocol_error("the first frame must be hello");
    }
    hello = protocol::hello_from(f.body);
  } catch (const protocol::protocol_error& e) {
    refusal = e.what();
  }
  if (!refusal.empty()) {
    spdlog::warn("agent node {}: {}", self->node_id_, refusal);
    websocket::close_reason why(websocket::close_code::policy_error, refusal);
    co_await ws.async_close(why, use_tuple);
    co_return;
  }
  buffer.consume(buffer.size());
  bool speaks_ours = std::find(hello.versions.begin(), hello.versions.end(), protocol::current_version) !=
                     hello.versions.end();
  if (!speaks_ours) {
    websocket::close_reason why(websocket::close_code::policy_error, "no common protocol version");
    co_await ws.async_close(why, use_tuple);
    co_return;
  }
  self->started_at_ = self->ctx_.services.clk.now();
  co_await record_start(self, hello);
  self->ctx_.hub.attach(self->node_id_, self);
  spdlog::info("agent node {} connected (agent {}, generation {})", self->node_id_, hello.agent_version,
               hello.desired_generation);
  protocol::welcome welcome;
  welcome.node_id = static_cast<std::int64_t>(self->node_id_);
  welcome.ping_interval_seconds = static_cast<int>(self->ctx_.ping_interval.count());
  self->outbox_.push_back(protocol::encode(welcome));
  self->snapshot_wanted_ = true;
  net::co_spawn(ws.get_executor(), writer(self), net::detached);

  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec) {
      break;
    }
    self->last_heard_ = steady::now();
    protocol::frame f;
    try {
      f = protocol::parse_frame(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      co_await handle(self, std::move(f));
    } catch (const protocol::protocol_error& e) {
      spdlog::warn("agent node {}: malformed frame: {}", self->node_id_, e.what());
      self->close_soon(std::string("malformed frame: ") + e.what());
      break;
    } catch (const std::exception& e) {
      spdlog::error("agent node {}: {}", self->node_id_, e.what());
      self->close_soon("controller error");
      break;
    }
  }
  if (self->close_reason_.empty()) {
    self->close_reason_ = "agent gone";
    self->nudge();
  }
  while (!self->writer_done_) {
    net::steady_timer pause(ws.get_executor(), std::chrono::milliseconds(20));
    co_await pause.async_wait(use_tuple);
  }
  self->ctx_.hub.detach(self->node_id_, self.get());
  co_await record_end(self);
  spdlog::info("agent node {} disconnected ({})", self->node_id_, self->close_reason_);
}

net::awaitable<void> agent_session::handle(std::shared_ptr<agent_session> self, protocol::frame f) {
  auto& s = self->ctx_.services;
  auto node = self->node_id_;
  if (f.type == "status") {
    auto st = protocol::status_from(f.body);
    auto now = s.clk.now();
    auto unit = [node, st, now](sql::Connection& conn) { allocation_repository::record_status(conn, node, st, now); };
    co_await s.pool.run(std::move(unit));
  } else if (f.type == "snapshot_request") {
    self->snapshot_wanted_ = true;
    self->nudge();
  } else if (f.type == "renew") {
    auto csr = protocol::renew_from(f.body).csr_pem;
    auto now = s.clk.now();
    const auto* ca = &self->ctx_.ca;
    auto unit = [ca, node, csr, now](sql::Connection& conn) {
      try {
        return std::optional(enrollment::renew(conn, *ca, node, csr, now));
      } catch (const enrollment_error& e) {
        spdlog::warn("agent node {}: renewal refused: {}", node, e.what());
        return std::optional<protocol::certificate>();
      }
    };
    auto cert = co_await s.pool.transact(std::move(unit));
    if (cert) {
      self->ctx_.hub.note_certificate(node, inspect_certificate(cert->cert_pem).serial_hex, true);
      self->queue(protocol::encode(*cert));
      spdlog::info("agent node {}: certificate renewed", node);
    }
  } else {
    spdlog::info("agent node {}: ignoring unknown message type {}", node, f.type.substr(0, 64));
  }
}

net::awaitable<void> agent_session::writer(std::shared_ptr<agent_session> self) {
  auto& ws = self->ws_;
  auto last_ping = steady::now();
  auto last_seen_write = steady::time_point{};
  try {
    for (;;) {
      if (!self->close_reason_.empty()) {
        break;
      }
      auto now = steady::now();
      if (now - self->last_heard_ > self->ctx_.silence_limit) {
        self->close_reason_ = "agent silent";
        break;
      }
      if (!self->ctx_.hub.serial_valid(self->node_id_, self->serial_)) {
        self->close_reason_ = "certificate revoked";
        break;
      }
      auto generation = self->ctx_.hub.generation_of(self->node_id_);
      if (self->snapshot_wanted_) {
        co_await send_desired(self, true);
      } else if (generation && *generation > static_cast<std::uint64_t>(self->sent_.generation)) {
        co_await send_desired(self, false);
      }
      while (!self->outbox_.empty() && self->close_reason_.empty()) {
        auto text = std::move(self->outbox_.front());
        self->outbox_.pop_front();
        auto [ec, n] = co_await ws.async_write(net::buffer(text), use_tuple);
        if (ec) {
          self->close_reason_ = "write failed";
        }
      }
      if (now - last_ping >= self->ctx_.ping_interval) {
        last_ping = now;
        self->ping_sent_ = steady::now();
        auto [ec] = co_await ws.async_ping({}, use_tuple);
        if (ec) {
          self->close_reason_ = "ping failed";
          break;
        }
      }
      if (now - last_seen_write >= self->ctx_.ping_interval) {
        last_seen_write = now;
        co_await record_seen(self);
      }
      if (!self->nudged_) {
        self->wake_.expires_after(std::chrono::seconds(1));
        co_await self->wake_.async_wait(use_tuple);
      }
      self->nudged_ = false;
    }
    auto reason = self->close_reason_;
    if (reason == fleet_hub::node_deleted && ws.is_open()) {
      // The node is deleted and its servers released: leave the host with nothing to run.
      protocol::desired_state last;
      last.node_id = static_cast<std::int64_t>(self->node_id_);
      last.generation = self->sent_.generation + 1;
      auto text = protocol::encode_snapshot(last);
      co_await ws.async_write(net::buffer(text), use_tuple);
    }
    auto code = reason == "agent gone" ? websocket::close_code::normal : websocket::close_code::policy_error;
    // A silent agent would not answer the close handshake either; waiting for it would only keep the session
    // (and the node's online mark) for another handshake timeout.
    if (ws.is_open() && reason != "agent silent") {
      websocket::close_reason why(code, reason);
      co_await ws.async_close(why, use_tuple);
    }
  } catch (const std::exception& e) {
    spdlog::error("agent node {}: writer: {}", self->node_id_, e.what());
    beast::get_lowest_layer(ws).close();
  }
  beast::get_lowest_layer(ws).close();
  self->writer_done_ = true;
}

net::awaitable<void> agent_session::send_desired(std::shared_ptr<agent_session> self, bool snapshot) {
  auto& s = self->ctx_.services;
  auto node = self->node_id_;
  auto profile = self->ctx_.profile;
  const auto* keys = &s.keys;
  auto unit = [keys, node, profile](sql::Connection& conn) {
    return allocation_repository::desired_for(conn, *keys, node, profile);
  };
  auto desired = co_await s.pool.transact(std::move(unit));
  if (snapshot) {
    self->snapshot_wanted_ = false;
    self->outbox_.push_back(protocol::encode_snapshot(desired));
  } else {
    self->outbox_.push_back(protocol::encode(protocol::diff_states(self->sent_, desired)));
  }
  self->sent_ = std::move(desired);
}

net::awaitable<void> agent_session::record_start(std::shared_ptr<agent_session> self, protocol::hello hello) {
  auto& s = self->ctx_.services;
  auto node = self->node_id_;
  auto serial = self->serial_;
  auto replica = self->ctx_.hub.replica_id();
  auto now = self->started_at_;
  auto version = hello.agent_version.substr(0, 64);
  auto host = host_json(hello.host);
  auto unit = [node, serial, replica, now, version, host](sql::Connection& conn) {
    // Connecting with the current certificate retires the previous one.
    auto ps = db::prepare(conn,
                          "UPDATE nodes SET session_replica = ?, session_started_at = ?, last_seen_at = ?, "
                          "agent_version = ?, host_facts = ?, prev_cert_serial = IF(cert_serial = ?, NULL, "
                          "prev_cert_serial) WHERE id = ?");
    ps->setString(1, replica);
    ps->setString(2, format_sql_datetime(now));
    ps->setString(3, format_sql_datetime(now));
    ps->setString(4, version);
    ps->setString(5, host);
    ps->setString(6, serial);
    ps->setUInt64(7, node);
    ps->executeUpdate();
  };
  co_await s.pool.run(std::move(unit));
}

net::awaitable<void> agent_session::record_seen(std::shared_ptr<agent_session> self) {
  auto& s = self->ctx_.services;
  auto node = self->node_id_;
  auto replica = self->ctx_.hub.replica_id();
  auto now = s.clk.now();
  auto rtt = self->rtt_ms_;
  auto unit = [node, replica, now, rtt](sql::Connection& conn) {
    auto ps = db::prepare(conn,
                          "UPDATE nodes SET last_seen_at = ?, session_replica = ?, rtt_ms = COALESCE(?, rtt_ms) "
                          "WHERE id = ?");
    ps->setString(1, format_sql_datetime(now));
    ps->setString(2, replica);
    if (rtt) {
      ps->setDouble(3, *rtt);
    } else {
      ps->setNull(3, 0);
    }
    ps->setUInt64(4, node);
    ps->executeUpdate();
  };
  try {
    co_await s.pool.run(std::move(unit));
  } catch (const std::exception& e) {
    spdlog::warn("agent node {}: cannot record last seen: {}", node, e.what());
  }
}

net::awaitable<void> agent_session::record_end(std::shared_ptr<agent_session> self) {
  auto& s = self->ctx_.services;
  auto node = self->node_id_;
  auto replica = self->ctx_.hub.replica_id();
  auto started = self->started_at_;
  auto unit = [node, replica, started](sql::Connection& conn) {
    // Only this session's mark: a newer session (here or on another replica) keeps its own.
    auto ps = db::prepare(conn,
                          "UPDATE nodes SET session_replica = NULL WHERE id = ? AND session_replica = ? AND "
                          "session_started_at = ?");
    ps->setUInt64(1, node);
    ps->setString(2, replica);
    ps->setString(3, format_sql_datetime(started));
    ps->executeUpdate();
  };
  try {
    co_await s.pool.run(std::move(unit));
  } catch (const std::exception& e) {
    spdlog::warn("agent node {}: cannot record the end of its session: {}", node, e.what());
  }
}

}  // namespace derpmgr::controller::fleet
