#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "shared/net/net.hpp"
#include "tests/derper_standin/verify_url.hpp"

namespace derpmgr::standin {

// The request header carrying the client's node key. The stand-in cannot do the DERP handshake (where a real
// client proves its key), so test clients name their key here when they ask to upgrade /derp.
inline constexpr const char* test_node_key_header = "Derpmgr-Test-Node-Key";

// Largest transfer the /derpmgr-test/bytes endpoint moves in one request.
inline constexpr std::uint64_t max_test_bytes = std::uint64_t{1} << 30;

// What the HTTP(S) side needs to answer requests.
struct http_settings {
  bool run_derp = true;
  std::optional<verify_url> verify;
  bool verify_fail_open = true;
  std::string server_public_hex;  // sent as Derp-Public-Key on upgrade
};

// Serves derper's endpoints on every connection `acceptor` accepts, over TLS when `tls` is non-null (it must outlive
// the server), until the acceptor is closed:
//   /derp/probe, /derp/latency-check  GET/HEAD → 200, empty, Access-Control-Allow-Origin: *
//   /generate_204                      204, X-Tailscale-Challenge echoed as X-Tailscale-Response: response <c>
//   /derp                              426 without Upgrade; with Upgrade: DERP or websocket and the test node key
//                                      header, the admission check decides: 101 then an echo of every byte, or 403
//   /derpmgr-test/bytes                GET ?n=N → N bytes; POST → reads the body, answers {"received":N}
net::awaitable<void> serve_http(net::ip::tcp::acceptor acceptor, net::ssl::context* tls,
                                std::shared_ptr<const http_settings> settings);

}  // namespace derpmgr::standin
