#include "agent/channel/controller_channel.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <random>

#include "agent/channel/agent_identity.hpp"
#include "agent/channel/controller_tls.hpp"
#include "agent/channel/reconnect_policy.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/x509.hpp"

namespace derpmgr::agent {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
}

struct controller_channel::state {
  state(net::any_io_executor ex, channel_options opts, channel_handler& h)
      : executor(std::move(ex)), options(std::move(opts)), handler(h), pause(executor) {
    std::uint64_t seed = options.seed;
    if (seed == 0) {
      seed = std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32);
    }
    rng.seed(seed);
    policy.emplace(seed);
  }

  net::any_io_executor executor;
  channel_options options;
  channel_handler& handler;
  std::mt19937_64 rng;
  std::optional<reconnect_policy> policy;
  net::steady_timer pause;
  bool stopped = false;
  bool expired_logged = false;
  int sessions = 0;

  // The live session, if any.
  ws_stream* ws = nullptr;
  std::optional<net::steady_timer> wake;
  std::deque<std::string> outbox;
  std::string last_status;
  std::string close_reason;
  bool writer_done = true;
  steady::time_point last_heard{};
  std::optional<agent_identity> identity;
  std::string pending_key;
  std::chrono::system_clock::time_point renew_at{};
  steady::time_point renew_sent{};

  void schedule_renewal() {
    auto from = identity->not_before();
    auto life = identity->not_after() - from;
    std::uniform_real_distribution<double> share(options.renew_from, options.renew_to);
    renew_at = from + std::chrono::duration_cast<std::chrono::system_clock::duration>(life * share(rng));
  }

  void queue(std::string frame) {
    outbox.push_back(std::move(frame));
    if (wake) {
      wake->cancel();
    }
  }
};

namespace {

using state_ptr = std::shared_ptr<controller_channel::state>;

void handle_frame(controller_channel::state& s, const protocol::frame& f) {
  if (f.type == "welcome") {
    auto w = protocol::welcome_from(f.body);
    if (w.version != protocol::current_version) {
      throw protocol::protocol_error("the controller chose protocol version " + std::to_string(w.version));
    }
  } else if (f.type == "desired_snapshot") {
    auto snapshot = protocol::snapshot_from(f.body);
    if (snapshot.node_id != s.identity->node_id) {
      throw protocol::protocol_error("a snapshot for another node");
    }
    s.handler.apply(std::move(snapshot));
  } else if (f.type == "desired_delta") {
    auto delta = protocol::delta_from(f.body);
    const auto& held = s.handler.desired();
    if (held.generation != delta.base_generation || held.node_id != s.identity->node_id) {
      spdlog::info("channel: generation gap (have {}, delta from {}); asking for a snapshot", held.generation,
                   delta.base_generation);
      s.queue(protocol::encode_snapshot_request());
      return;
    }
    auto next = held;
    protocol::apply_delta(next, delta.generation, delta.upsert, delta.remove);
    s.handler.apply(std::move(next));
  } else if (f.type == "certificate") {
    auto cert = protocol::certificate_from(f.body);
    if (s.pending_key.empty() || !key_matches_certificate(s.pending_key, cert.cert_pem)) {
      spdlog::warn("channel: ignoring a certificate for a key this agent did not ask about");
      return;
    }
    auto renewed = *s.identity;
    renewed.key_pem = s.pending_key;
    renewed.cert_pem = cert.cert_pem;
    renewed.ca_pem = cert.ca_pem;
    renewed.save(s.options.state_dir);
    s.identity = std::move(renewed);
    s.pending_key.clear();
    s.schedule_renewal();
    spdlog::info("channel: certificate renewed; valid until {}", format_rfc3339(std::chrono::time_point_cast<time_point::duration>(s.identity->not_after())));
  } else if (f.type == "ack") {
    // Telemetry acknowledgements arrive with the traffic spool.
  } else {
    spdlog::info("channel: ignoring unknown message type {}", f.type.substr(0, 64));
  }
}

net::awaitable<void> writer(state_ptr s) {
  auto& ws = *s->ws;
  auto last_ping = steady::now();
  for (;;) {
    if (!s->close_reason.empty() || s->stopped) {
      break;
    }
    auto now = steady::now();
    if (now - s->last_heard > s->options.silence_limit) {
      s->close_reason = "controller silent";
      break;
    }
    if (auto st = s->handler.latest_status()) {
      auto text = protocol::encode(*st);
      if (text != s->last_status) {
        s->last_status = text;
        s->outbox.push_back(std::move(text));
      }
    }
    bool renewal_due = std::chrono::system_clock::now() >= s->renew_at;
    bool asked_recently = s->renew_sent != steady::time_point{} && now - s->renew_sent < s->options.renew_retry;
    if (renewal_due && !asked_recently) {
      s->pending_key = generate_ec_key_pem();
      s->renew_sent = now;
      s->outbox.push_back(protocol::encode(protocol::renew{make_csr(s->pending_key)}));
      spdlog::info("channel: asking for a renewed certificate");
    }
    while (!s->outbox.empty() && s->close_reason.empty()) {
      auto text = std::move(s->outbox.front());
      s->outbox.pop_front();
      auto [ec, n] = co_await ws.async_write(net::buffer(text), use_tuple);
      if (ec) {
        s->close_reason = "write failed";
      }
    }
    if (now - last_ping >= s->options.ping_interval) {
      last_ping = now;
      auto [ec] = co_await ws.async_ping({}, use_tuple);
      if (ec) {
        s->close_reason = "ping failed";
        break;
      }
    }
    s->wake->expires_after(std::chrono::seconds(1));
    co_await s->wake->async_wait(use_tuple);
  }
  // A silent controller would not answer the close handshake either: drop the connection and dial again.
  if (ws.is_open() && s->close_reason != "controller silent") {
    websocket::close_reason why(websocket::close_code::normal, s->close_reason);
    co_await ws.async_close(why, use_tuple);
  }
  beast::error_code ignored;
  beast::get_lowest_layer(ws).socket().close(ignored);
  s->writer_done = true;
}

// One session; true when the controller welcomed us.
net::awaitable<bool> session(state_ptr s) {
  auto executor = s->executor;
  try {
    s->identity = agent_identity::load(s->options.state_dir);
  } catch (const std::exception& e) {
    spdlog::error("channel: {}", e.what());
    co_return false;
  }
  if (!s->identity) {
    spdlog::warn("channel: not enrolled; run `derpmgr-agent enroll --controller URL --token T`");
    co_return false;
  }
  if (s->identity->expired(std::chrono::system_clock::now())) {
    if (!s->expired_logged) {
      spdlog::error("channel: the agent certificate expired; containers keep running. Re-enrol with a new token "
                    "(`derpmgr-agent enroll`)");
      s->expired_logged = true;
    }
    co_return false;
  }
  s->expired_logged = false;
  auto url = s->options.controller_url.empty() ? s->identity->controller_url : s->options.controller_url;
  controller_endpoint where;
  try {
    where = controller_endpoint::parse(url);
  } catch (const std::invalid_argument& e) {
    spdlog::error("channel: {}", e.what());
    co_return false;
  }
  auto tls = channel_tls_context(*s->identity);
  tcp::resolver resolver(executor);
  auto [rec, results] = co_await resolver.async_resolve(where.host, where.port, use_tuple);
  if (rec) {
    spdlog::warn("channel: cannot resolve {}: {}", where.host, rec.message());
    co_return false;
  }
  ws_stream ws(executor, *tls);
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  auto [cec, ep] = co_await beast::get_lowest_layer(ws).async_connect(results, use_tuple);
  if (cec) {
    spdlog::warn("channel: cannot connect to {}:{}: {}", where.host, where.port, cec.message());
    co_return false;
  }
  auto [hec] = co_await ws.next_layer().async_handshake(net::ssl::stream_base::client, use_tuple);
  if (hec) {
    spdlog::warn("channel: TLS handshake with {} failed: {}", where.host, hec.message());
    co_return false;
  }
  beast::get_lowest_layer(ws).expires_never();
  // keep_alive_pings must be on: without it Beast arms the idle timer once per async_read and never re-arms it for
  // control frames, so a session that only exchanges pings for silence_limit is closed as timed out.
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(10), s->options.silence_limit, true});
  ws.read_message_max(64 * 1024 * 1024);
  auto raw = s.get();
  ws.control_callback([raw](websocket::frame_type, beast::string_view) { raw->last_heard = steady::now(); });
  auto [wec] = co_await ws.async_handshake(where.host, std::string(protocol::connect_path), use_tuple);
  if (wec) {
    spdlog::warn("channel: the controller refused the session: {}", wec.message());
    co_return false;
  }
  auto hello = s->handler.hello();
  hello.agent_version = s->options.agent_version;
  auto hello_text = protocol::encode(hello);
  auto [hwec, hwn] = co_await ws.async_write(net::buffer(hello_text), use_tuple);
  if (hwec) {
    co_return false;
  }
  beast::flat_buffer buffer;
  auto [wrec, wrn] = co_await ws.async_read(buffer, use_tuple);
  if (wrec) {
    spdlog::warn("channel: no welcome: {}", wrec.message());
    co_return false;
  }
  std::string problem;
  try {
    auto f = protocol::parse_frame(beast::buffers_to_string(buffer.data()));
    if (f.type != "welcome") {
      throw protocol::protocol_error("expected welcome, got " + f.type);
    }
    handle_frame(*s, f);
  } catch (const protocol::protocol_error& e) {
    problem = e.what();
  }
  if (!problem.empty()) {
    spdlog::error("channel: {}", problem);
    websocket::close_reason why(websocket::close_code::policy_error, problem);
    co_await ws.async_close(why, use_tuple);
    co_return false;
  }
  buffer.consume(buffer.size());
  ++s->sessions;
  spdlog::info("channel: connected to {} as node {}", where.host, s->identity->node_id);
  s->ws = &ws;
  s->wake.emplace(executor);
  s->outbox.clear();
  s->last_status.clear();
  s->close_reason.clear();
  s->pending_key.clear();
  s->renew_sent = {};
  s->last_heard = steady::now();
  s->writer_done = false;
  s->schedule_renewal();
  net::co_spawn(executor, writer(s), net::detached);
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec) {
      if (s->close_reason.empty()) {
        s->close_reason = ec == websocket::error::closed ? std::string(ws.reason().reason.c_str()) : ec.message();
      }
      break;
    }
    s->last_heard = steady::now();
    try {
      auto f = protocol::parse_frame(beast::buffers_to_string(buffer.data()));
      // A snapshot of 100 allocations is over 100 KiB; the buffer would keep that size for the whole session.
      buffer.consume(buffer.size());
      buffer.shrink_to_fit();
      handle_frame(*s, f);
    } catch (const protocol::protocol_error& e) {
      s->close_reason = std::string("malformed frame: ") + e.what();
      break;
    }
  }
  s->wake->cancel();
  while (!s->writer_done) {
    net::steady_timer pause(executor, std::chrono::milliseconds(20));
    co_await pause.async_wait(use_tuple);
  }
  s->ws = nullptr;
  spdlog::warn("channel: session ended ({})", s->close_reason);
  co_return true;
}

net::awaitable<void> run(state_ptr s) {
  while (!s->stopped) {
    auto began = steady::now();
    bool welcomed = false;
    try {
      welcomed = co_await session(s);
    } catch (const std::exception& e) {
      spdlog::error("channel: {}", e.what());
    }
    if (s->stopped) {
      break;
    }
    bool healthy = welcomed && steady::now() - began >= s->options.healthy_after;
    auto delay = welcomed ? s->policy->after_session(healthy) : s->policy->after_failure();
    s->pause.expires_after(delay);
    co_await s->pause.async_wait(use_tuple);
  }
}

}  // namespace

controller_channel::controller_channel(net::any_io_executor executor, channel_options options,
                                       channel_handler& handler)
    : state_(std::make_shared<state>(std::move(executor), std::move(options), handler)) {}

controller_channel::~controller_channel() { stop(); }

void controller_channel::start() { net::co_spawn(state_->executor, run(state_), net::detached); }

void controller_channel::stop() {
  auto s = state_;
  net::post(s->executor, [s] {
    if (s->stopped) {
      return;
    }
    s->stopped = true;
    s->close_reason = "agent stopping";
    s->pause.cancel();
    if (s->wake) {
      s->wake->cancel();
    }
  });
}

void controller_channel::nudge() {
  auto s = state_;
  net::post(s->executor, [s] {
    if (s->wake) {
      s->wake->cancel();
    }
  });
}

bool controller_channel::connected() const { return state_->ws != nullptr; }

int controller_channel::sessions() const { return state_->sessions; }

}  // namespace derpmgr::agent
