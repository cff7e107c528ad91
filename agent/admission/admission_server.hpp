#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "agent/admission/admission_table.hpp"
#include "shared/net/listen_address.hpp"

namespace derpmgr::agent {

// Where and how the admission endpoint listens.
struct admission_options {
  listen_address listen{"127.0.0.1", 7946};  // `[admission] listen`; port 0 picks a free one
  int threads = 1;                           // io_context threads of the server's own
  std::size_t body_limit = 4096;             // derper's bodies are ~110 bytes
  std::size_t header_limit = 8192;
  std::chrono::seconds idle_timeout{120};  // a keep-alive connection with no complete request for this long closes
};

// derper's admission endpoint (DESIGN §5, "Device binding"): HTTP/1.1 with keep-alive on its own io_context
// thread(s), so a busy reconciler never delays an answer. `POST /admit/<token>` with
// {"NodePublic":"nodekey:<hex>","Source":"<ip>"} → 200 {"Allow":true} when the table admits the key for the token,
// else 200 {"Allow":false} (unknown token or key, malformed or oversized body). Any other path or method gets 404 or
// 405, with {"Allow":false} too.
class admission_server {
 public:
  // `table` must outlive the server.
  admission_server(admission_options options, admission_table& table);
  ~admission_server();
  admission_server(const admission_server&) = delete;
  admission_server& operator=(const admission_server&) = delete;

  // Binds and starts serving; throws boost::system::system_error when the address cannot be bound.
  void start();
  // The bound port (the real one when listening on port 0); 0 before start().
  std::uint16_t port() const;
  // Stops accepting, closes every connection and joins the threads. Idempotent; the destructor calls it.
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace derpmgr::agent
