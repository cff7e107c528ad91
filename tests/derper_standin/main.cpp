// derper-standin: a test-only replacement for Tailscale's derper (no registry is reachable here, so the real one
// cannot be fetched). It takes derper's command line and serves what derpmgr looks at: TLS with the manual
// certificate, the probe endpoints, STUN, the -c key file and the -verify-client-url admission check. It does not
// speak the DERP protocol: see http_server.hpp for the test node key header and the echo after the upgrade.
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>

#include "tests/derper_standin/derper_options.hpp"
#include "tests/derper_standin/http_server.hpp"
#include "tests/derper_standin/log_line.hpp"
#include "tests/derper_standin/server_key.hpp"
#include "tests/derper_standin/stun_server.hpp"
#include "tests/derper_standin/tls_identity.hpp"

namespace {

using namespace derpmgr;
using namespace derpmgr::standin;

constexpr const char* version_text = "1.103.0-derpmgr-standin";

// Binds `socket` to `host` (an IP literal; empty means every address, IPv6 and IPv4 where possible) and `port`.
template <class Socket>
void bind_to(Socket& socket, const std::string& host, std::uint16_t port, const char* network) {
  using endpoint = typename Socket::endpoint_type;
  std::string shown = listen_address{host, port}.to_string();
  boost::system::error_code ec;
  net::ip::address address;
  if (host.empty()) {
    address = net::ip::address_v6::any();
    socket.open(endpoint(address, port).protocol(), ec);
    if (!ec) {
      socket.set_option(net::ip::v6_only(false), ec);
    }
    if (ec) {
      boost::system::error_code ignored;
      socket.close(ignored);
      address = net::ip::address_v4::any();
      socket.open(endpoint(address, port).protocol());
    }
  } else {
    address = net::ip::make_address(host, ec);
    if (ec) {
      throw std::runtime_error(std::string("listen ") + network + " " + shown + ": the stand-in needs an IP literal");
    }
    socket.open(endpoint(address, port).protocol());
  }
  if constexpr (std::is_same_v<Socket, net::ip::tcp::acceptor>) {
    socket.set_option(net::socket_base::reuse_address(true));
  }
  socket.bind(endpoint(address, port), ec);
  if (ec) {
    throw std::runtime_error(std::string("listen ") + network + " " + shown + ": " + ec.message());
  }
}

int run(const flag_set& flags) {
  derper_options options = derper_options::from(flags);
  net::io_context io;

  std::optional<net::ip::udp::socket> stun;
  if (options.run_stun) {
    stun.emplace(io);
    bind_to(*stun, options.addr.host, options.stun_port, "udp");
  }
  server_key key = options.key_path.empty() ? server_key::generate() : server_key::load_or_create(options.key_path);
  std::unique_ptr<tls_identity> tls;
  if (options.serve_tls) {
    tls = tls_identity::load(options.certdir, options.hostname);
  }
  net::ip::tcp::acceptor acceptor(io);
  bind_to(acceptor, options.addr.host, options.addr.port, "tcp");
  acceptor.listen(net::socket_base::max_listen_connections);

  auto settings = std::make_shared<http_settings>();
  settings->run_derp = options.run_derp;
  settings->verify = options.verify;
  settings->verify_fail_open = options.verify_fail_open;
  settings->server_public_hex = key.public_hex();

  std::string line = "derper: serving on " + options.addr.to_string() + (tls ? " with TLS" : "") + " (stand-in";
  if (tls) {
    line += "; certificate for " + options.hostname + " pinned as " + tls->pin();
  }
  line += stun ? "; STUN on udp port " + std::to_string(options.stun_port) : "; no STUN";
  line += options.verify ? "; verify-client-url " + options.verify->endpoint() +
                               (options.verify_fail_open ? " failing open" : " failing closed")
                         : "; no verify-client-url";
  line +=
      options.key_path.empty() ? "; throwaway key" : (key.created() ? "; created " : "; loaded ") + options.key_path;
  if (options.http_port != -1) {
    line += "; -http-port " + std::to_string(options.http_port) + " ignored";
  }
  log_line(line + ")");

  net::co_spawn(io, serve_http(std::move(acceptor), tls ? &tls->context() : nullptr, settings), net::detached);
  if (stun) {
    net::co_spawn(io, serve_stun(std::move(*stun)), net::detached);
  }
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code&, int) { io.stop(); });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  flag_set flags = derper_flag_set();
  try {
    flags.parse(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const flag_help&) {
    std::cerr << flags.usage();
    return 0;
  } catch (const flag_error& e) {
    std::cerr << e.what() << "\n" << flags.usage();
    return 2;
  }
  if (flags.boolean("version")) {
    std::cout << version_text << "\n";
    return 0;
  }
  try {
    return run(flags);
  } catch (const std::exception& e) {
    log_line(e.what());
    return 1;
  }
}
