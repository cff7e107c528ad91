#include "tests/derper_standin/http_server.hpp"

#include <strings.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <chrono>

#include "tests/derper_standin/admission_check.hpp"
#include "tests/derper_standin/log_line.hpp"

namespace derpmgr::standin {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using request_parser = http::request_parser<http::buffer_body>;
using string_response = http::response<http::string_body>;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto request_timeout = std::chrono::seconds(30);
constexpr std::size_t chunk_size = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// derper echoes a challenge only when it is at most 64 characters of [A-Za-z0-9._:-].
bool acceptable_challenge(std::string_view c) {
  if (c.empty() || c.size() > 64) {
    return false;
  }
  for (char ch : c) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-' || ch == '_' || ch == ':';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool valid_node_key(std::string_view key) {
  constexpr std::string_view prefix = "nodekey:";
  if (key.size() != prefix.size() + 64 || key.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (char c : key.substr(prefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// The value of query parameter `name` in `target`, if present.
std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
  std::size_t q = target.find('?');
  if (q == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, name.size()) == name && pair.size() > name.size() && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return std::nullopt;
}

string_response make_response(http::status status, const request_parser::value_type& req, std::string body,
                              std::string_view content_type) {
  string_response res{status, req.version()};
  res.keep_alive(req.keep_alive());
  if (!content_type.empty()) {
    res.set(http::field::content_type, content_type);
  }
  res.body() = std::move(body);
  res.prepare_payload();
  if (req.method() == http::verb::head) {
    res.body().clear();
  }
  return res;
}

string_response text_response(http::status status, const request_parser::value_type& req, std::string text) {
  return make_response(status, req, std::move(text) + "\n", "text/plain; charset=utf-8");
}

// The plain endpoints: everything but the /derp upgrade and the GET side of the bytes endpoint.
string_response route(const request_parser::value_type& req, std::string_view path, std::uint64_t body_bytes,
                      const http_settings& settings) {
  bool get_or_head = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == "/derp/probe" || path == "/derp/latency-check") {
    if (!get_or_head) {
      return text_response(http::status::method_not_allowed, req, "bogus probe method");
    }
    string_response res = make_response(http::status::ok, req, "", "");
    res.set(http::field::access_control_allow_origin, "*");
    return res;
  }
  if (path == "/generate_204") {
    string_response res = make_response(http::status::no_content, req, "", "");
    std::string_view challenge = req["X-Tailscale-Challenge"];
    if (acceptable_challenge(challenge)) {
      res.set("X-Tailscale-Response", "response " + std::string(challenge));
    }
    res.content_length(boost::none);
    return res;
  }
  if (path == "/derp") {
    if (!settings.run_derp) {
      return text_response(http::status::not_found, req, "derp server disabled");
    }
    return text_response(http::status::upgrade_required, req, "DERP requires connection upgrade");
  }
  if (path == "/derpmgr-test/bytes" && req.method() == http::verb::post) {
    return make_response(http::status::ok, req, "{\"received\":" + std::to_string(body_bytes) + "}",
                         "application/json");
  }
  if (path == "/derpmgr-test/bytes") {
    return text_response(http::status::method_not_allowed, req, "use GET ?n=N or POST");
  }
  if (path == "/robots.txt") {
    return make_response(http::status::ok, req, "User-agent: *\nDisallow: /\n", "text/plain; charset=utf-8");
  }
  if (path.substr(0, 7) == "/debug/") {
    return text_response(http::status::not_found, req, "the derper stand-in has no debug pages");
  }
  return make_response(http::status::ok, req,
                       "<html><body>\n<h1>DERP</h1>\n<p>derpmgr's test stand-in for Tailscale's derper.</p>\n",
                       "text/html; charset=utf-8");
}

template <class Stream>
net::awaitable<bool> write(Stream& stream, string_response res) {
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  co_return !ec;
}

// Reads and discards the request body; returns its size, or nullopt when the connection failed.
template <class Stream>
net::awaitable<std::optional<std::uint64_t>> drain_body(Stream& stream, beast::flat_buffer& buffer,
                                                        request_parser& parser, std::vector<char>& scratch) {
  std::uint64_t received = 0;
  while (!parser.is_done()) {
    parser.get().body().data = scratch.data();
    parser.get().body().size = scratch.size();
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec && ec != http::error::need_buffer) {
      co_return std::nullopt;
    }
    received += scratch.size() - parser.get().body().size;
  }
  std::optional<std::uint64_t> result = received;
  co_return result;
}

// GET /derpmgr-test/bytes?n=N: a header with Content-Length N, then N bytes.
template <class Stream>
net::awaitable<bool> send_bytes(Stream& stream, const request_parser::value_type& req, std::vector<char>& scratch) {
  std::uint64_t count = 0;
  auto n = query_param(req.target(), "n");
  if (n) {
    auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), count);
    if (ec != std::errc() || end != n->data() + n->size() || count > max_test_bytes) {
      n.reset();
    }
  }
  if (!n) {
    string_response res =
        text_response(http::status::bad_request, req, "n must be a byte count up to " + std::to_string(max_test_bytes));
    bool ok = co_await write(stream, std::move(res));
    co_return ok;
  }
  http::response<http::empty_body> head{http::status::ok, req.version()};
  head.keep_alive(req.keep_alive());
  head.set(http::field::content_type, "application/octet-stream");
  head.content_length(count);
  http::response_serializer<http::empty_body> serializer{head};
  auto [hec, hn] = co_await http::async_write_header(stream, serializer, use_tuple);
  if (hec) {
    co_return false;
  }
  std::fill(scratch.begin(), scratch.end(), 'x');
  while (count > 0) {
    std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(count, scratch.size()));
    beast::get_lowest_layer(stream).expires_after(request_timeout);
    auto [ec, written] = co_await net::async_write(stream, net::buffer(scratch.data(), size), use_tuple);
    if (ec) {
      co_return false;
    }
    count -= written;
  }
  co_return true;
}

// After 101 Switching Protocols: sends back every byte the client sends until it closes.
template <class Stream>
net::awaitable<void> echo(Stream& stream, beast::flat_buffer& buffer) {
  beast::get_lowest_layer(stream).expires_never();
  std::vector<char> chunk(chunk_size);
  for (;;) {
    if (buffer.size() > 0) {
      auto [ec, n] = co_await net::async_write(stream, buffer.data(), use_tuple);
      if (ec) {
        co_return;
      }
      buffer.consume(n);
    }
    auto [ec, n] = co_await stream.async_read_some(net::buffer(chunk), use_tuple);
    if (ec) {
      co_return;
    }
    auto [wec, written] = co_await net::async_write(stream, net::buffer(chunk.data(), n), use_tuple);
    if (wec) {
      co_return;
    }
  }
}

// /derp with an Upgrade header: the admission check, then 101 and an echo, or 403. Returns false when the
// connection is finished.
template <class Stream>
net::awaitable<bool> upgrade_derp(Stream& stream, beast::flat_buffer& buffer, const request_parser::value_type& req,
                                  std::string client_ip, std::shared_ptr<const http_settings> settings) {
  std::string key(req[test_node_key_header]);
  std::string_view upgrade = req[http::field::upgrade];
  if (!valid_node_key(key)) {
    log_line("derper: refused " + client_ip + ": no valid " + std::string(test_node_key_header) + " header");
    string_response res = text_response(http::status::bad_request, req,
                                        std::string(test_node_key_header) + ": nodekey:<64 hex> required");
    res.keep_alive(false);
    co_await write(stream, std::move(res));
    co_return false;
  }
  admission_decision decision{true, "no -verify-client-url"};
  if (settings->verify) {
    decision = co_await check_admission(*settings->verify, settings->verify_fail_open, key, client_ip);
  }
  std::string via = settings->verify ? " (verify " + settings->verify->endpoint() + ")" : "";
  log_line("derper: " + std::string(decision.admitted ? "admitted " : "refused ") + key + " from " + client_ip + ": " +
           decision.reason + via);
  if (!decision.admitted) {
    string_response res = text_response(http::status::forbidden, req, "client not admitted");
    res.keep_alive(false);
    co_await write(stream, std::move(res));
    co_return false;
  }
  http::response<http::empty_body> res{http::status::switching_protocols, req.version()};
  res.set(http::field::upgrade, upgrade);
  res.set(http::field::connection, "Upgrade");
  res.set("Derp-Version", "2");
  res.set("Derp-Public-Key", settings->server_public_hex);
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  if (!ec) {
    co_await echo(stream, buffer);
  }
  co_return false;
}

template <class Stream>
net::awaitable<void> serve_requests(Stream& stream, std::string client_ip,
                                    std::shared_ptr<const http_settings> settings) {
  beast::flat_buffer buffer;
  std::vector<char> scratch(chunk_size);
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    request_parser parser;
    parser.body_limit(max_test_bytes);
    lowest.expires_after(request_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    if (ec) {
      co_return;
    }
    std::optional<std::uint64_t> received = co_await drain_body(stream, buffer, parser, scratch);
    if (!received) {
      co_return;
    }
    const auto& req = parser.get();
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    bool keep_going = false;
    if (path == "/derp" && settings->run_derp &&
        (iequals(req[http::field::upgrade], "derp") || iequals(req[http::field::upgrade], "websocket"))) {
      keep_going = co_await upgrade_derp(stream, buffer, req, client_ip, settings);
    } else if (path == "/derpmgr-test/bytes" && req.method() == http::verb::get) {
      keep_going = co_await send_bytes(stream, req, scratch);
    } else {
      string_response res = route(req, path, *received, *settings);
      keep_going = co_await write(stream, std::move(res));
    }
    if (!keep_going || !req.keep_alive()) {
      co_return;
    }
  }
}

std::string client_ip_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  net::ip::address address = socket.remote_endpoint(ec).address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

net::awaitable<void> serve_connection(tcp::socket socket, net::ssl::context* tls,
                                      std::shared_ptr<const http_settings> settings) {
  std::string client_ip = client_ip_of(socket);
  if (tls == nullptr) {
    plain_stream stream(std::move(socket));
    co_await serve_requests(stream, client_ip, settings);
    stream.socket().shutdown(tcp::socket::shutdown_send);
    co_return;
  }
  tls_stream stream(std::move(socket), *tls);
  beast::get_lowest_layer(stream).expires_after(request_timeout);
  auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
  if (ec) {
    co_return;
  }
  co_await serve_requests(stream, client_ip, settings);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await stream.async_shutdown(use_tuple);
}

}  // namespace

net::awaitable<void> serve_http(net::ip::tcp::acceptor acceptor, net::ssl::context* tls,
                                std::shared_ptr<const http_settings> settings) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == net::error::operation_aborted || ec == net::error::bad_descriptor) {
      co_return;
    }
    if (ec) {
      continue;
    }
    net::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), tls, settings), net::detached);
  }
}

}  // namespace derpmgr::standin
