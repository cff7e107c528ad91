#include "controller/http/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <atomic>

#include "controller/http/router.hpp"
#include "controller/metrics/metrics_registry.hpp"
#include "shared/net/net.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using tcp_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(net::io_context& ioc, server_options opts, std::shared_ptr<net::ssl::context> tls_ctx, const router& r,
       metrics::metrics_registry* m)
      : ioc_(ioc), options(std::move(opts)), tls(std::move(tls_ctx)), routes(r), metrics(m), acceptor(ioc) {}

  net::io_context& ioc_;
  server_options options;
  std::shared_ptr<net::ssl::context> tls;
  const router& routes;
  metrics::metrics_registry* metrics;
  tcp::acceptor acceptor;
  std::uint16_t bound_port = 0;
  std::atomic<int> in_flight{0};  // requests between header read and response written
};

namespace {

using impl_ptr = std::shared_ptr<http_server::impl>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bhttp::response<bhttp::string_body> to_beast(const response& r, const request& req, unsigned version,
                                             bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::content_type, r.content_type);
  res.set("X-Request-Id", req.request_id);
  res.set(bhttp::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : r.headers) {
    res.insert(name, value);
  }
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  if (req.method == "HEAD") {
    res.body().clear();
  }
  return res;
}

response error_response(int status, const std::string& code, const std::string& message) {
  return response::json(status, error_body(code, message));
}

bool fill_request(request& out, bhttp::request<bhttp::string_body>& in) {
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  auto parsed = boost::urls::parse_origin_form(out.target);
  if (!parsed) {
    return false;
  }
  out.path = parsed->path();
  out.query = parsed->encoded_query();
  for (const auto& field : in) {
    out.headers[lower(field.name_string())] = std::string(field.value());
  }
  out.body = std::move(in.body());
  return true;
}

// Counts a request as in flight for graceful shutdown.
struct in_flight_guard {
  explicit in_flight_guard(std::atomic<int>& c) : count(c) { ++count; }
  ~in_flight_guard() { --count; }
  in_flight_guard(const in_flight_guard&) = delete;
  in_flight_guard& operator=(const in_flight_guard&) = delete;
  std::atomic<int>& count;
};

template <class Stream>
net::awaitable<bool> write_response(Stream& stream, bhttp::response<bhttp::string_body> res) {
  auto [ec, n] = co_await bhttp::async_write(stream, res, use_tuple);
  (void)n;
  co_return !ec;
}

template <class Stream>
net::awaitable<void> serve_requests(impl_ptr srv, Stream& stream, std::string remote_ip) {
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    if (buffer.size() == 0) {
      // Keep-alive: wait for the first byte of the next request under the idle timeout.
      lowest.expires_after(srv->options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) {
        co_return;
      }
      buffer.commit(n);
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(srv->options.header_limit));
    parser.body_limit(srv->options.body_limit);
    lowest.expires_after(srv->options.header_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    (void)hn;
    in_flight_guard guard(srv->in_flight);
    request req;
    req.remote_ip = remote_ip;
    req.request_id = random_hex(8);
    auto started = std::chrono::steady_clock::now();
    int early_status = 0;
    std::string early_code, early_message;
    if (hec == bhttp::error::body_limit) {
      early_status = 413, early_code = "body_too_large",
      early_message = "request body exceeds " + std::to_string(srv->options.body_limit) + " bytes";
    } else if (hec == bhttp::error::header_limit) {
      early_status = 431, early_code = "headers_too_large", early_message = "request headers are too large";
    } else if (hec == beast::error::timeout) {
      early_status = 408, early_code = "request_timeout", early_message = "request header not received in time";
    } else if (hec) {
      if (hec != bhttp::error::end_of_stream) {
        early_status = 400, early_code = "bad_request", early_message = "malformed HTTP request";
      } else {
        co_return;
      }
    } else {
      auto len = parser.content_length();
      if (len && *len > srv->options.body_limit) {
        early_status = 413, early_code = "body_too_large",
        early_message = "request body exceeds " + std::to_string(srv->options.body_limit) + " bytes";
      } else {
        lowest.expires_after(srv->options.body_timeout);
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
        (void)bn;
        if (bec == bhttp::error::body_limit) {
          early_status = 413, early_code = "body_too_large",
          early_message = "request body exceeds " + std::to_string(srv->options.body_limit) + " bytes";
        } else if (bec == beast::error::timeout) {
          early_status = 408, early_code = "request_timeout", early_message = "request body not received in time";
        } else if (bec) {
          early_status = 400, early_code = "bad_request", early_message = "malformed HTTP request";
        }
      }
    }
    lowest.expires_never();

    response res;
    std::string route = "unmatched";
    bool keep_alive = false;
    unsigned version = 11;
    if (early_status == 0) {
      auto& msg = parser.get();
      keep_alive = msg.keep_alive();
      version = msg.version();
      if (!fill_request(req, msg)) {
        res = error_response(400, "bad_request", "malformed request target");
        keep_alive = false;
      } else {
        if (srv->options.client_ip) {
          req.remote_ip = srv->options.client_ip(remote_ip, req.header("x-forwarded-for"));
        }
        res = co_await srv->routes.handle(req, route);
      }
    } else {
      if (!hec) {
        req.method = std::string(parser.get().method_string());
        if (auto parsed = boost::urls::parse_origin_form(parser.get().target())) {
          req.path = parsed->path();
        }
      }
      res = error_response(early_status, early_code, early_message);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (srv->metrics != nullptr) {
      srv->metrics->observe_request(route, req.method.empty() ? "-" : req.method, res.status, seconds);
    }
    if (srv->options.access_log) {
      spdlog::info("{} {} {} {} {} {} {}B {:.1f}ms", srv->options.name, req.request_id,
                   req.remote_ip.empty() ? remote_ip : req.remote_ip,
                   req.method.empty() ? "-" : req.method, req.path.empty() ? "-" : req.path, res.status,
                   res.body.size(), seconds * 1000);
    }
    lowest.expires_after(srv->options.body_timeout);
    if (!co_await write_response(stream, to_beast(res, req, version, keep_alive))) {
      co_return;
    }
    if (!keep_alive) {
      co_return;
    }
  }
}

net::awaitable<void> run_session(impl_ptr srv, tcp::socket socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  std::string remote_ip = ec ? "-" : endpoint.address().to_string();
  if (srv->tls) {
    tls_stream stream(std::move(socket), *srv->tls);
    beast::get_lowest_layer(stream).expires_after(srv->options.header_timeout);
    auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
    if (hec) {
      spdlog::debug("{}: TLS handshake from {} failed: {}", srv->options.name, remote_ip, hec.message());
      co_return;
    }
    co_await serve_requests(srv, stream, remote_ip);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_tuple);
  } else {
    tcp_stream stream(std::move(socket));
    co_await serve_requests(srv, stream, remote_ip);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

net::awaitable<void> accept_loop(impl_ptr srv) {
  for (;;) {
    auto [ec, socket] = co_await srv->acceptor.async_accept(net::make_strand(srv->ioc_), use_tuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !srv->acceptor.is_open()) {
        co_return;
      }
      spdlog::warn("{}: accept failed: {}", srv->options.name, ec.message());
      continue;
    }
    auto executor = socket.get_executor();
    net::co_spawn(executor, run_session(srv, std::move(socket)), [srv](const std::exception_ptr& ep) {
      if (ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          spdlog::error("{}: session ended by exception: {}", srv->options.name, e.what());
        }
      }
    });
  }
}

}  // namespace

http_server::http_server(net::io_context& ioc, server_options options, std::shared_ptr<net::ssl::context> tls,
                         const router& routes, metrics::metrics_registry* metrics)
    : impl_(std::make_shared<impl>(ioc, std::move(options), std::move(tls), routes, metrics)) {}

http_server::~http_server() { stop(); }

void http_server::start() {
  auto& opts = impl_->options;
  net::ip::address address = opts.listen.host.empty() ? net::ip::address(net::ip::address_v6::any())
                                                      : net::ip::make_address(opts.listen.host);
  tcp::endpoint endpoint(address, opts.listen.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  if (address.is_v6() && opts.listen.host.empty()) {
    acceptor.set_option(net::ip::v6_only(false));
  }
  acceptor.bind(endpoint);
  acceptor.listen(net::socket_base::max_listen_connections);
  impl_->bound_port = acceptor.local_endpoint().port();
  spdlog::info("{}: listening on {}{}", opts.name, opts.listen.host.empty() ? "*" : opts.listen.host,
               ":" + std::to_string(impl_->bound_port));
  net::co_spawn(acceptor.get_executor(), accept_loop(impl_), net::detached);
}

std::uint16_t http_server::port() const { return impl_->bound_port; }

int http_server::in_flight() const { return impl_->in_flight.load(); }

void http_server::stop() {
  auto srv = impl_;
  net::post(srv->acceptor.get_executor(), [srv]() {
    beast::error_code ec;
    srv->acceptor.close(ec);
  });
}

std::shared_ptr<net::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                           const std::string& key_file) {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 |
                   net::ssl::context::single_dh_use);
  beast::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    throw std::runtime_error("cannot load TLS certificate " + cert_file + ": " + ec.message());
  }
  ctx->use_private_key_file(key_file, net::ssl::context::pem, ec);
  if (ec) {
    throw std::runtime_error("cannot load TLS key " + key_file + ": " + ec.message());
  }
  return ctx;
}

}  // namespace derpmgr::controller::http
