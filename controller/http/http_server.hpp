#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "shared/net/listen_address.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace derpmgr::controller::metrics {
class metrics_registry;
}

namespace derpmgr::controller::http {

class router;

// Limits every connection is held to.
struct server_options {
  listen_address listen;
  std::string name = "api";                           // for logs
  std::size_t body_limit = 1024 * 1024;                // larger bodies get 413
  std::size_t header_limit = 16 * 1024;                // larger headers get 431
  std::chrono::seconds header_timeout{10};             // from the first byte to the end of the header
  std::chrono::seconds body_timeout{30};               // to read the body
  std::chrono::seconds idle_timeout{60};               // keep-alive wait for the next request
  bool access_log = true;
  // Maps the peer address and X-Forwarded-For to the client address (trusted proxies); null: the peer.
  std::function<std::string(const std::string& peer, const std::string& forwarded_for)> client_ip;
};

// An HTTP/1.1 server (TLS when given a context) that dispatches to a router on an io_context.
class http_server {
 public:
  // `tls` may be null for plain HTTP (the metrics listener). `metrics` may be null.
  http_server(boost::asio::io_context& ioc, server_options options, std::shared_ptr<boost::asio::ssl::context> tls,
              const router& routes, metrics::metrics_registry* metrics);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and starts accepting; throws std::system_error when the address can't be bound.
  void start();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  // Stops accepting; open connections end when the io_context stops or their peer leaves.
  void stop();
  // Requests being handled right now (graceful shutdown waits for 0, bounded).
  int in_flight() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

// A TLS server context (TLS 1.2+) loaded from PEM files; throws std::runtime_error naming the file on failure.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

}  // namespace derpmgr::controller::http
