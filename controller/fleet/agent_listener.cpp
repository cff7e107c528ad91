#include "controller/fleet/agent_listener.hpp"

#include <cppconn/connection.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "controller/app/app_services.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/fleet/agent_session.hpp"
#include "controller/fleet/enrollment.hpp"
#include "controller/fleet/fleet_hub.hpp"
#include "controller/fleet/handshake_limiter.hpp"
#include "controller/fleet/peer_certificate.hpp"
#include "controller/http/http_types.hpp"
#include "shared/tls/certificate_authority.hpp"

namespace derpmgr::controller::fleet {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// The listener's own certificate, issued by the internal CA at start; the chain carries the CA so that an
// enrolling agent can find the certificate its token pins.
std::shared_ptr<net::ssl::context> make_context(const certificate_authority& ca) {
  auto key = generate_ec_key_pem();
  certificate_request req;
  req.csr_pem = make_csr(key);
  req.common_name = "derpmgr-controller";
  req.dns_names = {"derpmgr-controller"};
  req.usage = certificate_usage::server;
  auto wall = std::chrono::system_clock::now();
  req.not_before = wall - std::chrono::hours(1);
  req.not_after = wall + std::chrono::hours(24 * 90);
  auto issued = ca.issue(req);

  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  auto chain = issued.cert_pem + ca.cert_pem();
  ctx->use_certificate_chain(net::buffer(chain));
  ctx->use_private_key(net::buffer(key), net::ssl::context::pem);
  // Ask for a client certificate but decide after the handshake: enrollment comes without one, and the
  // connect check (chain, usage, identity, revocation) is explicit in check_agent_certificate.
  SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  ctx->add_certificate_authority(net::buffer(ca.cert_pem()));
  return ctx;
}

}  // namespace

struct agent_listener::impl {
  impl(net::io_context& io, agent_listener_options opts, const certificate_authority& authority, fleet_hub& h,
       app_services& svc)
      : ioc(io),
        options(std::move(opts)),
        ca(authority),
        hub(h),
        services(svc),
        acceptor(io),
        limiter(options.handshakes_per_second, options.handshake_burst, options.per_ip_per_second,
                options.per_ip_burst),
        context{svc, h, authority, options.profile, options.ping_interval, options.silence_limit} {}

  net::io_context& ioc;
  agent_listener_options options;
  const certificate_authority& ca;
  fleet_hub& hub;
  app_services& services;
  tcp::acceptor acceptor;
  handshake_limiter limiter;
  session_context context;
  std::shared_ptr<net::ssl::context> tls;
  bool stopped = false;
};

namespace {

bhttp::response<bhttp::string_body> json_response(bhttp::status status, std::string body) {
  bhttp::response<bhttp::string_body> res{status, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

net::awaitable<bhttp::response<bhttp::string_body>> enroll(agent_listener::impl* l, std::string body,
                                                           std::string peer) {
  protocol::enroll_request request;
  try {
    request = protocol::enroll_request_from(body);
  } catch (const protocol::protocol_error& e) {
    auto res = json_response(bhttp::status::bad_request, http::error_body("invalid_request", e.what()));
    co_return res;
  }
  auto now = l->services.clk.now();
  auto* s = &l->services;
  const auto* ca = &l->ca;
  auto unit = [s, ca, request, now](sql::Connection& conn) {
    auto answer = enrollment::enroll(conn, s->keys, *ca, request, now);
    audit_event event;
    event.actor_kind = "agent";
    event.actor_id = static_cast<std::uint64_t>(answer.node_id);
    event.action = "node.enrolled";
    event.target = "node:" + std::to_string(answer.node_id);
    s->audit(conn, event);
    return answer;
  };
  try {
    auto answer = co_await l->services.pool.transact(std::move(unit));
    spdlog::info("agents: node {} enrolled from {}", answer.node_id, peer);
    l->hub.note_certificate(static_cast<std::uint64_t>(answer.node_id), inspect_certificate(answer.cert_pem).serial_hex,
                            false);
    auto res = json_response(bhttp::status::ok, protocol::encode(answer));
    co_return res;
  } catch (const enrollment_error& e) {
    spdlog::warn("agents: enrollment from {} refused: {}", peer, e.code());
    auto res = json_response(static_cast<bhttp::status>(e.status()), http::error_body(e.code(), e.what()));
    co_return res;
  }
}

net::awaitable<void> handle_connection(std::shared_ptr<agent_listener::impl> l, tcp::socket socket) {
  beast::error_code ignored;
  auto peer = socket.remote_endpoint(ignored).address().to_string();
  tls_stream stream(std::move(socket), *l->tls);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
  if (hec) {
    co_return;
  }
  beast::flat_buffer buffer;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
  if (rec) {
    co_return;
  }
  auto req = parser.release();
  auto target = std::string(req.target());
  if (target == protocol::enroll_path && req.method() == bhttp::verb::post) {
    auto res = co_await enroll(l.get(), req.body(), peer);
    co_await bhttp::async_write(stream, res, use_tuple);
    co_await stream.async_shutdown(use_tuple);
    co_return;
  }
  if (target == protocol::connect_path && websocket::is_upgrade(req)) {
    auto check = check_agent_certificate(stream.native_handle(), l->ca);
    if (check.ok && !l->hub.serial_valid(check.node_id, check.serial_hex)) {
      check.ok = false;
      check.reason = "certificate revoked or superseded";
    }
    if (!check.ok) {
      spdlog::warn("agents: connection from {} refused: {}", peer, check.reason);
      auto res = json_response(bhttp::status::unauthorized, http::error_body("unauthorized", check.reason));
      co_await bhttp::async_write(stream, res, use_tuple);
      co_return;
    }
    beast::get_lowest_layer(stream).expires_never();
    auto session = std::make_shared<agent_session>(agent_websocket(std::move(stream)), l->context, check.node_id,
                                                   check.serial_hex);
    co_await agent_session::run(session, std::move(req));
    co_return;
  }
  auto res = json_response(bhttp::status::not_found, http::error_body("not_found", "no such endpoint"));
  co_await bhttp::async_write(stream, res, use_tuple);
}

net::awaitable<void> accept_loop(std::shared_ptr<agent_listener::impl> l) {
  for (;;) {
    auto [ec, socket] = co_await l->acceptor.async_accept(net::make_strand(l->ioc), use_tuple);
    if (l->stopped) {
      co_return;
    }
    if (ec) {
      continue;
    }
    beast::error_code ignored;
    auto peer = socket.remote_endpoint(ignored).address().to_string();
    if (!l->limiter.allow(peer, std::chrono::steady_clock::now())) {
      socket.close(ignored);
      continue;
    }
    auto executor = socket.get_executor();
    net::co_spawn(executor, handle_connection(l, std::move(socket)), [](const std::exception_ptr& ep) {
      if (ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          spdlog::warn("agents: connection ended: {}", e.what());
        }
      }
    });
  }
}

}  // namespace

agent_listener::agent_listener(net::io_context& ioc, agent_listener_options options, const certificate_authority& ca,
                               fleet_hub& hub, app_services& services)
    : impl_(std::make_shared<impl>(ioc, std::move(options), ca, hub, services)) {
  impl_->tls = make_context(ca);
}

agent_listener::~agent_listener() { stop(); }

void agent_listener::start() {
  auto& l = *impl_;
  auto address = l.options.listen.host.empty() ? net::ip::address(net::ip::address_v6::any())
                                               : net::ip::make_address(l.options.listen.host);
  tcp::endpoint endpoint(address, l.options.listen.port);
  l.acceptor.open(endpoint.protocol());
  l.acceptor.set_option(net::socket_base::reuse_address(true));
  if (endpoint.address().is_v6() && l.options.listen.host.empty()) {
    l.acceptor.set_option(net::ip::v6_only(false));
  }
  l.acceptor.bind(endpoint);
  l.acceptor.listen();
  net::co_spawn(l.acceptor.get_executor(), accept_loop(impl_), net::detached);
}

void agent_listener::stop() {
  if (!impl_ || impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

std::uint16_t agent_listener::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace derpmgr::controller::fleet
