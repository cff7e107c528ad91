#include "agent/admission/admission_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_static_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "shared/net/net.hpp"

namespace derpmgr::agent {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

namespace {

constexpr std::string_view admit_prefix = "/admit/";

// How the connection continues after an answer.
enum class connection_mode { keep_alive, keep_alive_http10, close };

// The three answers, prebuilt for every connection mode: answering costs no formatting.
class canned_responses {
 public:
  canned_responses() {
    for (int mode = 0; mode < 3; ++mode) {
      const auto m = static_cast<connection_mode>(mode);
      allow_[mode] = make("200 OK", true, m);
      deny_[mode] = make("200 OK", false, m);
      not_found_[mode] = make("404 Not Found", false, m);
      not_allowed_[mode] = make("405 Method Not Allowed", false, m);
    }
  }
  const std::string& allow(connection_mode m) const { return allow_[static_cast<int>(m)]; }
  const std::string& deny(connection_mode m) const { return deny_[static_cast<int>(m)]; }
  const std::string& not_found(connection_mode m) const { return not_found_[static_cast<int>(m)]; }
  const std::string& not_allowed(connection_mode m) const { return not_allowed_[static_cast<int>(m)]; }

 private:
  static std::string make(std::string_view status, bool allow, connection_mode mode) {
    const std::string body = allow ? R"({"Allow":true})" : R"({"Allow":false})";
    std::string text = "HTTP/1.1 " + std::string(status) +
                       "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n";
    if (mode == connection_mode::close) {
      text += "Connection: close\r\n";
    } else if (mode == connection_mode::keep_alive_http10) {
      text += "Connection: keep-alive\r\n";
    }
    if (status.starts_with("405")) {
      text += "Allow: POST\r\n";
    }
    return text + "\r\n" + body;
  }

  std::array<std::string, 3> allow_, deny_, not_found_, not_allowed_;
};

const canned_responses& responses() {
  static const canned_responses instance;
  return instance;
}

// A request parser that keeps only what the endpoint needs — method, target, body — in buffers owned by the
// connection and reused for every request, so a request costs no heap allocation once the connection is warm.
class admit_parser final : public bhttp::basic_parser<true> {
 public:
  admit_parser(std::string& target, std::string& body, std::size_t body_limit)
      : target_(target), body_(body), body_limit_(body_limit) {
    target_.clear();
    body_.clear();
  }

  bhttp::verb method() const { return method_; }
  int version() const { return version_; }

 private:
  void on_request_impl(bhttp::verb method, beast::string_view, beast::string_view target, int version,
                       beast::error_code&) override {
    method_ = method;
    version_ = version;
    target_.assign(target.data(), target.size());
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code& ec) override {
    ec = bhttp::error::bad_version;  // never called for a request parser
  }
  void on_field_impl(bhttp::field, beast::string_view, beast::string_view, beast::error_code&) override {}
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, beast::error_code& ec) override {
    if (length && *length > body_limit_) {
      ec = bhttp::error::body_limit;
    }
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code& ec) override { return append(body, ec); }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code& ec) override {
    return append(body, ec);
  }
  void on_finish_impl(beast::error_code&) override {}

  std::size_t append(beast::string_view piece, beast::error_code& ec) {
    if (body_.size() + piece.size() > body_limit_) {
      ec = bhttp::error::body_limit;
      return 0;
    }
    body_.append(piece.data(), piece.size());
    return piece.size();
  }

  std::string& target_;
  std::string& body_;
  std::size_t body_limit_;
  bhttp::verb method_ = bhttp::verb::unknown;
  int version_ = 11;
};

connection_mode mode_of(const admit_parser& parser) {
  if (!parser.keep_alive()) {
    return connection_mode::close;
  }
  return parser.version() < 11 ? connection_mode::keep_alive_http10 : connection_mode::keep_alive;
}

}  // namespace

struct admission_server::impl {
  impl(admission_options opts, admission_table& t) : options(std::move(opts)), table(t) {}

  admission_options options;
  admission_table& table;
  std::optional<net::io_context> io;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  int thread_count = 1;
  std::uint16_t port = 0;

  // The answer to one parsed request.
  const std::string& answer(const admit_parser& parser, const std::string& target, const std::string& body,
                            connection_mode mode) const {
    std::string_view path = target;
    path = path.substr(0, path.find('?'));
    if (!path.starts_with(admit_prefix)) {
      return responses().not_found(mode);
    }
    if (parser.method() != bhttp::verb::post) {
      return responses().not_allowed(mode);
    }
    const bool allowed = table.admit(path.substr(admit_prefix.size()), body);
    return allowed ? responses().allow(mode) : responses().deny(mode);
  }
};

namespace {

net::awaitable<void> serve_connection(admission_server::impl* self, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_static_buffer<16 * 1024> buffer;
  std::string target;
  std::string body;
  target.reserve(256);
  body.reserve(512);
  for (;;) {
    admit_parser parser(target, body, self->options.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(self->options.header_limit));
    parser.body_limit(self->options.body_limit);
    stream.expires_after(self->options.idle_timeout);
    auto [read_error, read] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    (void)read;
    const std::string* reply = nullptr;
    bool keep_going = false;
    if (read_error == bhttp::error::body_limit) {
      reply = &responses().deny(connection_mode::close);  // derper reads it as "not allowed"
    } else if (read_error) {
      co_return;  // the peer left, timed out or spoke something that is not HTTP
    } else {
      const connection_mode mode = mode_of(parser);
      reply = &self->answer(parser, target, body, mode);
      keep_going = mode != connection_mode::close;
    }
    stream.expires_after(self->options.idle_timeout);
    auto [write_error, written] = co_await net::async_write(stream, net::buffer(*reply), use_tuple);
    (void)written;
    if (write_error || !keep_going) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

net::awaitable<void> accept_connections(admission_server::impl* self) {
  for (;;) {
    auto executor = self->thread_count > 1 ? net::any_io_executor(net::make_strand(*self->io))
                                           : net::any_io_executor(self->io->get_executor());
    auto [error, socket] = co_await self->acceptor->async_accept(executor, use_tuple);
    if (error == net::error::operation_aborted || !self->acceptor->is_open()) {
      co_return;
    }
    if (error) {
      // Out of descriptors or similar: say so and breathe rather than spin.
      spdlog::warn("admission: accept failed: {}", error.message());
      net::steady_timer pause(self->io->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(socket.get_executor(), serve_connection(self, std::move(socket)), net::detached);
  }
}

}  // namespace

admission_server::admission_server(admission_options options, admission_table& table)
    : impl_(std::make_unique<impl>(std::move(options), table)) {}

admission_server::~admission_server() {
  stop();
}

void admission_server::start() {
  impl& s = *impl_;
  if (s.io) {
    throw std::logic_error("admission server already started");
  }
  const int threads = std::max(1, s.options.threads);
  s.io.emplace(threads);
  try {
    const auto address = s.options.listen.host.empty() ? net::ip::address(net::ip::address_v6::any())
                                                       : net::ip::make_address(s.options.listen.host);
    const tcp::endpoint endpoint(address, s.options.listen.port);
    s.acceptor.emplace(*s.io);
    s.acceptor->open(endpoint.protocol());
    s.acceptor->set_option(tcp::acceptor::reuse_address(true));
    if (s.options.listen.host.empty()) {
      s.acceptor->set_option(net::ip::v6_only(false));
    }
    s.acceptor->bind(endpoint);
    s.acceptor->listen(net::socket_base::max_listen_connections);
    s.port = s.acceptor->local_endpoint().port();
  } catch (...) {
    s.acceptor.reset();
    s.io.reset();
    throw;
  }
  s.thread_count = threads;
  net::co_spawn(*s.io, accept_connections(&s), net::detached);
  for (int i = 0; i < threads; ++i) {
    s.threads.emplace_back([&io = *s.io] { io.run(); });
  }
  spdlog::info("admission: listening on {} ({} thread{})", listen_address{s.options.listen.host, s.port}.to_string(),
               threads, threads == 1 ? "" : "s");
}

std::uint16_t admission_server::port() const {
  return impl_->port;
}

void admission_server::stop() {
  impl& s = *impl_;
  if (!s.io) {
    return;
  }
  s.io->stop();
  for (std::thread& thread : s.threads) {
    if (thread.joinable()) {
      thread.join();
    }
  }
  s.threads.clear();
  s.acceptor.reset();
  s.io.reset();  // destroys the suspended connection coroutines, closing their sockets
}

}  // namespace derpmgr::agent
