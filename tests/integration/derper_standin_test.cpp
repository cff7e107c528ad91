// The derper stand-in (tests/derper_standin) behaves as derpmgr expects derper to: derper's flag syntax, the manual
// certificate checks, the TLS probe endpoints, STUN, the -c key file and the -verify-client-url admission check —
// run directly, then from its image with the container spec of DESIGN §5.
#include <doctest/doctest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shared/net/net.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/x509.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_env.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

using namespace derpmgr;
using namespace derpmgr::test;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using udp = net::ip::udp;

namespace {

constexpr const char* standin_bin = DERPMGR_DERPER_STANDIN_BIN;
const std::string allowed_key = "nodekey:" + std::string(64, 'a');
const std::string refused_key = "nodekey:" + std::string(64, 'b');

bool is_lower_hex(std::string_view s, std::size_t length) {
  return s.size() == length && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A port on 127.0.0.1 free for both TCP and UDP (derper serves STUN on the same number).
std::uint16_t free_port() {
  net::io_context io;
  for (int attempt = 0; attempt < 20; ++attempt) {
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    std::uint16_t port = acceptor.local_endpoint().port();
    udp::socket socket(io);
    socket.open(udp::v4());
    boost::system::error_code ec;
    socket.bind(udp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) {
      return port;
    }
  }
  FAIL("no port free for both TCP and UDP");
  return 0;
}

// Writes <dir>/<file_host>.crt and .key holding a self-signed certificate for `cert_host`; returns the PEM.
std::string write_certificate(const std::filesystem::path& dir, const std::string& file_host,
                              const std::string& cert_host) {
  pem_pair pair = make_self_signed(cert_host, std::chrono::hours(24));
  std::ofstream(dir / (file_host + ".crt")) << pair.cert_pem;
  std::ofstream(dir / (file_host + ".key")) << pair.key_pem;
  return pair.cert_pem;
}

// The stand-in as a child process, its output collected in a file; stopped with SIGTERM when destroyed.
class standin_process {
 public:
  standin_process(const std::vector<std::string>& args, const std::filesystem::path& log) : log_(log) {
    std::vector<std::string> argv_strings{standin_bin};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_strings) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawn(&pid_, standin_bin, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~standin_process() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGTERM);
      wait_exit(std::chrono::seconds(10));
      if (!exit_code_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
  }
  standin_process(const standin_process&) = delete;
  standin_process& operator=(const standin_process&) = delete;

  // The exit code once the process ended within `timeout` (-1 for a signal), nullopt while it runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      } else if (std::chrono::steady_clock::now() >= deadline) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return exit_code_;
  }

  // Waits until 127.0.0.1:port accepts TCP connections; fails the test if the process exits first.
  void wait_listening(std::uint16_t port) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    net::io_context io;
    while (std::chrono::steady_clock::now() < deadline) {
      tcp::socket socket(io);
      boost::system::error_code ec;
      socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
      if (!ec) {
        return;
      }
      if (wait_exit(std::chrono::milliseconds(50))) {
        FAIL("the stand-in exited with " << *exit_code_ << ": " << log());
      }
    }
    FAIL("the stand-in did not listen on port " << port << ": " << log());
  }

  std::string log() const { return read_file(log_); }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// The command line derpmgr gives derper (DESIGN §5), for 127.0.0.1:`port`.
std::vector<std::string> derper_args(std::uint16_t port, const std::string& certdir, const std::string& key_file,
                                     const std::string& verify_url, bool fail_open) {
  std::string p = std::to_string(port);
  return {"-a",
          "127.0.0.1:" + p,
          "-stun-port",
          p,
          "-http-port",
          "-1",
          "-certmode",
          "manual",
          "-certdir",
          certdir,
          "-hostname",
          "127.0.0.1",
          "-c",
          key_file,
          "-verify-client-url",
          verify_url,
          std::string("-verify-client-url-fail-open=") + (fail_open ? "true" : "false")};
}

// One HTTP exchange over TLS to 127.0.0.1:port, remembering the server's leaf certificate.
struct tls_exchange {
  http::response<http::string_body> response;
  std::string peer_cert_pem;
  std::string echoed;  // after 101: what came back for the bytes sent
};

tls_exchange tls_request(std::uint16_t port, http::request<http::empty_body> request,
                         const std::string& after_upgrade = "") {
  net::io_context io;
  net::ssl::context ctx(net::ssl::context::tls_client);
  ctx.set_verify_mode(net::ssl::verify_none);
  net::ssl::stream<tcp::socket> stream(io, ctx);
  stream.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  timeval timeout{10, 0};
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  stream.handshake(net::ssl::stream_base::client);

  tls_exchange out;
  X509* peer = SSL_get1_peer_certificate(stream.native_handle());
  REQUIRE(peer != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, peer);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  out.peer_cert_pem.assign(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  X509_free(peer);

  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::read(stream, buffer, out.response);
  if (out.response.result() == http::status::switching_protocols && !after_upgrade.empty()) {
    net::write(stream, net::buffer(after_upgrade));
    while (buffer.size() < after_upgrade.size()) {
      buffer.commit(stream.read_some(buffer.prepare(after_upgrade.size() - buffer.size())));
    }
    out.echoed = beast::buffers_to_string(buffer.data());
  }
  return out;
}

http::request<http::empty_body> derp_upgrade(const std::string& node_key) {
  http::request<http::empty_body> request{http::verb::get, "/derp", 11};
  request.set(http::field::upgrade, "DERP");
  request.set(http::field::connection, "Upgrade");
  request.set("Derpmgr-Test-Node-Key", node_key);
  return request;
}

// What the admission stub saw and decides: an HTTP server on 127.0.0.1 answering POST /admit/<token> with
// {"Allow":true} for allowed_key and {"Allow":false} for anything else.
struct admission_state {
  std::string token = random_hex(16);
  std::mutex mutex;
  std::vector<boost::json::object> requests;
  std::vector<std::string> content_types;
};

net::awaitable<void> admission_session(tcp::socket socket, std::shared_ptr<admission_state> state) {
  constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  auto [ec, n] = co_await http::async_read(socket, buffer, request, use_tuple);
  if (ec) {
    co_return;
  }
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  if (request.method() != http::verb::post || request.target() != "/admit/" + state->token) {
    response.result(http::status::not_found);
    response.body() = "{}";
  } else {
    boost::json::object body = boost::json::parse(request.body()).as_object();
    bool allow = body.at("NodePublic").as_string() == allowed_key;
    {
      std::lock_guard lock(state->mutex);
      state->requests.push_back(body);
      state->content_types.emplace_back(request[http::field::content_type]);
    }
    response.body() = boost::json::serialize(boost::json::object{{"Allow", allow}});
  }
  response.prepare_payload();
  co_await http::async_write(socket, response, use_tuple);
}

net::awaitable<void> admission_accept(tcp::acceptor acceptor, std::shared_ptr<admission_state> state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
    if (ec) {
      co_return;
    }
    net::co_spawn(acceptor.get_executor(), admission_session(std::move(socket), state), net::detached);
  }
}

class admission_stub {
 public:
  admission_stub() : state_(std::make_shared<admission_state>()) {
    tcp::acceptor acceptor(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    port_ = acceptor.local_endpoint().port();
    net::co_spawn(io_, admission_accept(std::move(acceptor), state_), net::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~admission_stub() {
    io_.stop();
    thread_.join();
  }
  admission_stub(const admission_stub&) = delete;
  admission_stub& operator=(const admission_stub&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/admit/" + state_->token; }
  const std::string& token() const { return state_->token; }
  std::vector<boost::json::object> requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
  }
  std::vector<std::string> content_types() const {
    std::lock_guard lock(state_->mutex);
    return state_->content_types;
  }

 private:
  net::io_context io_;
  std::shared_ptr<admission_state> state_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens.
std::string dead_url() {
  return "http://127.0.0.1:" + std::to_string(free_port()) + "/admit/nobody";
}

std::string https(std::uint16_t port, const std::string& path) {
  return "https://127.0.0.1:" + std::to_string(port) + path;
}

}  // namespace

TEST_CASE("derper stand-in: parses derper's flags like Go's flag package") {
  std::string bin = shell_quote(standin_bin);
  auto unknown = run_command(bin + " -no-such-flag");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.output.find("flag provided but not defined: -no-such-flag") != std::string::npos);
  CHECK(unknown.output.find("Usage of derper:") != std::string::npos);

  auto bad_bool = run_command(bin + " -verify-client-url-fail-open=maybe");
  CHECK(bad_bool.exit_code == 2);
  CHECK(bad_bool.output.find("invalid boolean value \"maybe\" for -verify-client-url-fail-open") != std::string::npos);

  auto missing_value = run_command(bin + " -stun-port");
  CHECK(missing_value.exit_code == 2);
  CHECK(missing_value.output.find("flag needs an argument: -stun-port") != std::string::npos);

  auto bad_int = run_command(bin + " --http-port=eighty");
  CHECK(bad_int.exit_code == 2);
  CHECK(bad_int.output.find("invalid value \"eighty\" for flag -http-port") != std::string::npos);

  auto bad_duration = run_command(bin + " -tcp-user-timeout 15 -version");
  CHECK(bad_duration.exit_code == 2);

  // A boolean flag never takes the next argument: "false" ends the flags, so -version still prints the version.
  auto version = run_command(bin + " -version false");
  CHECK(version.exit_code == 0);
  CHECK(version.output.find("derpmgr-standin") != std::string::npos);
  // Every flag of derper v1.103 is known, valued ones with values of their type.
  auto all = run_command(bin +
                         " -accept-connection-burst 0x10 -accept-connection-limit +Inf -ace=false -acme-eab-key k "
                         "-acme-eab-kid i -acme-email e -acme-ip-certs -bootstrap-dns-names a -derp -dev=false "
                         "-home blank -mesh-psk-file f -mesh-with m -rate-config r -secrets-cache-dir d "
                         "-secrets-path-prefix p -secrets-url u -socket s -stun=0 -tcp-keepalive-time 1h2m "
                         "-tcp-user-timeout 1.5s -tcp-write-timeout 0 -unpublished-bootstrap-dns-names n "
                         "-verify-clients=false --version");
  CHECK(all.exit_code == 0);
  CHECK(all.output.find("derpmgr-standin") != std::string::npos);
}

TEST_CASE("derper stand-in: refuses to start without a certificate matching -hostname") {
  temp_dir dir;
  std::uint16_t port = free_port();
  std::string certdir = dir.path().string();
  auto args = derper_args(port, certdir, certdir + "/key.json", dead_url(), false);

  SUBCASE("no certificate files") {
    standin_process p(args, dir.path() / "log");
    CHECK(p.wait_exit(std::chrono::seconds(10)) == 1);
    CHECK(p.log().find("can not load x509 key pair for hostname \"127.0.0.1\"") != std::string::npos);
  }
  SUBCASE("an IP certificate for another address") {
    write_certificate(dir.path(), "127.0.0.1", "127.0.0.2");
    standin_process p(args, dir.path() / "log");
    CHECK(p.wait_exit(std::chrono::seconds(10)) == 1);
    CHECK(p.log().find("cert invalid for hostname \"127.0.0.1\"") != std::string::npos);
  }
  SUBCASE("a DNS certificate for another name") {
    write_certificate(dir.path(), "derp.example.net", "derp.example.com");
    args[11] = "derp.example.net";
    standin_process p(args, dir.path() / "log");
    CHECK(p.wait_exit(std::chrono::seconds(10)) == 1);
    CHECK(p.log().find("cert invalid for hostname \"derp.example.net\"") != std::string::npos);
  }
  SUBCASE("a certificate mode it cannot serve") {
    args[7] = "letsencrypt";
    args[1] = "127.0.0.1:443";
    standin_process p(args, dir.path() / "log");
    CHECK(p.wait_exit(std::chrono::seconds(10)) == 1);
    CHECK(p.log().find("use -certmode manual") != std::string::npos);
  }
}

TEST_CASE("derper stand-in: serves the probes over TLS with the certificate from -certdir") {
  temp_dir dir;
  std::uint16_t port = free_port();
  std::string cert_pem = write_certificate(dir.path(), "127.0.0.1", "127.0.0.1");
  std::string key_file = (dir.path() / "data" / "derper.key").string();
  standin_process p(derper_args(port, dir.path().string(), key_file, dead_url(), false), dir.path() / "log");
  p.wait_listening(port);

  http::request<http::empty_body> probe{http::verb::get, "/derp/probe", 11};
  tls_exchange got = tls_request(port, probe);
  CHECK(got.response.result_int() == 200);
  CHECK(got.response.body().empty());
  CHECK(got.response[http::field::access_control_allow_origin] == "*");
  CHECK(sha256_raw_pin(got.peer_cert_pem) == sha256_raw_pin(cert_pem));
  CHECK(p.log().find("pinned as " + sha256_raw_pin(cert_pem)) != std::string::npos);

  auto latency = fetch({.method = "HEAD", .url = https(port, "/derp/latency-check")});
  CHECK(latency.status == 200);
  CHECK(latency.headers["access-control-allow-origin"] == "*");
  CHECK(fetch({.method = "POST", .url = https(port, "/derp/probe")}).status == 405);

  auto no_content = fetch({.url = https(port, "/generate_204"), .headers = {"X-Tailscale-Challenge: ab-1.2_c:d"}});
  CHECK(no_content.status == 204);
  CHECK(no_content.headers["x-tailscale-response"] == "response ab-1.2_c:d");
  auto odd_challenge = fetch({.url = https(port, "/generate_204"), .headers = {"X-Tailscale-Challenge: a/b"}});
  CHECK(odd_challenge.status == 204);
  CHECK(odd_challenge.headers.count("x-tailscale-response") == 0);

  CHECK(get(https(port, "/derp")).status == 426);

  // -c: the key file is created with mode 0600 and reused by the next start.
  std::string key_text = read_file(key_file);
  std::string private_key = std::string(boost::json::parse(key_text).as_object().at("PrivateKey").as_string());
  CHECK(private_key.substr(0, 8) == "privkey:");
  CHECK(is_lower_hex(std::string_view(private_key).substr(8), 64));
  CHECK((std::filesystem::status(key_file).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("derper stand-in: answers STUN binding requests with the sender's address") {
  temp_dir dir;
  std::uint16_t port = free_port();
  write_certificate(dir.path(), "127.0.0.1", "127.0.0.1");
  standin_process p(derper_args(port, dir.path().string(), (dir.path() / "k").string(), dead_url(), false),
                    dir.path() / "log");
  p.wait_listening(port);

  net::io_context io;
  udp::socket socket(io, udp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  timeval timeout{5, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::vector<std::uint8_t> request{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
  std::vector<std::uint8_t> transaction = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  request.insert(request.end(), transaction.begin(), transaction.end());
  socket.send_to(net::buffer(request), udp::endpoint(net::ip::make_address("127.0.0.1"), port));

  std::vector<std::uint8_t> reply(1500);
  udp::endpoint from;
  std::size_t n = socket.receive_from(net::buffer(reply), from);
  reply.resize(n);
  REQUIRE(n == 32);
  CHECK(reply[0] == 0x01);
  CHECK(reply[1] == 0x01);
  CHECK((reply[2] << 8 | reply[3]) == 12);
  CHECK(std::vector<std::uint8_t>(reply.begin() + 4, reply.begin() + 8) ==
        std::vector<std::uint8_t>(request.begin() + 4, request.begin() + 8));
  CHECK(std::vector<std::uint8_t>(reply.begin() + 8, reply.begin() + 20) == transaction);
  CHECK((reply[20] << 8 | reply[21]) == 0x0020);
  CHECK((reply[22] << 8 | reply[23]) == 8);
  CHECK(reply[25] == 0x01);
  CHECK(((reply[26] << 8 | reply[27]) ^ 0x2112) == socket.local_endpoint().port());
  std::array<std::uint8_t, 4> address{
      static_cast<std::uint8_t>(reply[28] ^ 0x21), static_cast<std::uint8_t>(reply[29] ^ 0x12),
      static_cast<std::uint8_t>(reply[30] ^ 0xA4), static_cast<std::uint8_t>(reply[31] ^ 0x42)};
  CHECK(net::ip::address_v4(address).to_string() == "127.0.0.1");

  // Not a binding request: no answer, and the server keeps answering afterwards.
  std::vector<std::uint8_t> junk{0x01, 0x01, 0x00, 0x00};
  socket.send_to(net::buffer(junk), udp::endpoint(net::ip::make_address("127.0.0.1"), port));
  socket.send_to(net::buffer(request), udp::endpoint(net::ip::make_address("127.0.0.1"), port));
  CHECK(socket.receive_from(net::buffer(reply), from) == 32);
}

TEST_CASE("derper stand-in: admits /derp upgrades only as the admission controller says") {
  temp_dir dir;
  admission_stub stub;
  std::uint16_t port = free_port();
  write_certificate(dir.path(), "127.0.0.1", "127.0.0.1");
  std::string key_file = (dir.path() / "data" / "derper.key").string();
  std::string server_public;
  {
    standin_process p(derper_args(port, dir.path().string(), key_file, stub.url(), false), dir.path() / "log");
    p.wait_listening(port);

    tls_exchange admitted = tls_request(port, derp_upgrade(allowed_key), "ping-1234");
    CHECK(admitted.response.result_int() == 101);
    CHECK(admitted.echoed == "ping-1234");
    server_public = std::string(admitted.response["Derp-Public-Key"]);
    CHECK(is_lower_hex(server_public, 64));

    tls_exchange refused = tls_request(port, derp_upgrade(refused_key));
    CHECK(refused.response.result_int() == 403);

    tls_exchange no_key = tls_request(port, derp_upgrade("nodekey:short"));
    CHECK(no_key.response.result_int() == 400);

    auto requests = stub.requests();
    REQUIRE(requests.size() == 2);
    CHECK(boost::json::serialize(requests[0]) == R"({"NodePublic":")" + allowed_key + R"(","Source":"127.0.0.1"})");
    CHECK(requests[1].at("NodePublic").as_string() == refused_key);
    CHECK(stub.content_types() == std::vector<std::string>{"application/json", "application/json"});

    std::string log = p.log();
    CHECK(log.find("admitted " + allowed_key + " from 127.0.0.1") != std::string::npos);
    CHECK(log.find("refused " + refused_key + " from 127.0.0.1") != std::string::npos);
    CHECK(log.find(stub.token()) == std::string::npos);
  }
  // Restarted on the same key file: the same server identity.
  std::string key_before = read_file(key_file);
  std::uint16_t port2 = free_port();
  standin_process again(derper_args(port2, dir.path().string(), key_file, stub.url(), false), dir.path() / "log2");
  again.wait_listening(port2);
  tls_exchange admitted = tls_request(port2, derp_upgrade(allowed_key), "x");
  CHECK(admitted.response.result_int() == 101);
  CHECK(admitted.response["Derp-Public-Key"] == server_public);
  CHECK(read_file(key_file) == key_before);
}

TEST_CASE("derper stand-in: an unreachable admission controller refuses unless failing open") {
  temp_dir dir;
  write_certificate(dir.path(), "127.0.0.1", "127.0.0.1");
  std::string url = dead_url();

  std::uint16_t closed_port = free_port();
  standin_process closed(derper_args(closed_port, dir.path().string(), (dir.path() / "k").string(), url, false),
                         dir.path() / "log");
  closed.wait_listening(closed_port);
  CHECK(tls_request(closed_port, derp_upgrade(allowed_key)).response.result_int() == 403);
  CHECK(closed.log().find("failing closed") != std::string::npos);

  std::uint16_t open_port = free_port();
  standin_process open(derper_args(open_port, dir.path().string(), (dir.path() / "k").string(), url, true),
                       dir.path() / "log2");
  open.wait_listening(open_port);
  CHECK(tls_request(open_port, derp_upgrade(allowed_key), "y").response.result_int() == 101);
}

TEST_CASE("derper stand-in: the test bytes endpoint moves exactly the bytes asked for") {
  temp_dir dir;
  std::uint16_t port = free_port();
  write_certificate(dir.path(), "127.0.0.1", "127.0.0.1");
  standin_process p(derper_args(port, dir.path().string(), (dir.path() / "k").string(), dead_url(), false),
                    dir.path() / "log");
  p.wait_listening(port);

  auto down = get(https(port, "/derpmgr-test/bytes?n=3000017"));
  CHECK(down.status == 200);
  CHECK(down.body.size() == 3000017);
  CHECK(get(https(port, "/derpmgr-test/bytes?n=0")).body.empty());
  CHECK(get(https(port, "/derpmgr-test/bytes?n=2000000000")).status == 400);

  auto up = fetch({.method = "POST", .url = https(port, "/derpmgr-test/bytes"), .body = std::string(2500003, 'z')});
  CHECK(up.status == 200);
  CHECK(up.body == R"({"received":2500003})");
}

TEST_CASE("derper stand-in: runs from its image with derpmgr's container spec") {
  services env = services::from_env();
  std::string docker = "docker -H " + shell_quote("unix://" + env.docker_socket);
  auto built = run_command("DOCKER_HOST=" + shell_quote("unix://" + env.docker_socket) +
                           " DERPMGR_TEST_DERPER_IMAGE=" + shell_quote(env.derper_image) + " " +
                           shell_quote(std::string(DERPMGR_SOURCE_DIR) + "/scripts/derper_image.sh") + " " +
                           shell_quote(standin_bin));
  REQUIRE_MESSAGE(built.exit_code == 0, built.output);
  std::string image_id = built.output.substr(built.output.rfind("sha256:"));
  image_id.erase(image_id.find_last_not_of("\n") + 1);

  temp_dir certs;
  temp_dir data;
  admission_stub stub;
  std::string cert_pem = write_certificate(certs.path(), "127.0.0.1", "127.0.0.1");
  std::uint16_t port = free_port();
  std::string name = unique_name("derpmgr_standin");
  std::string args;
  for (const std::string& a : derper_args(port, "/certs", "/data/derper.key", stub.url(), false)) {
    args += " " + shell_quote(a);
  }
  struct container_cleanup {
    std::string command;
    ~container_cleanup() { run_command(command); }
  } cleanup{docker + " rm -f " + name};
  auto started = run_command(docker + " run -d --name " + name +
                             " --network host --read-only --cap-drop ALL --security-opt no-new-privileges"
                             " --memory 256m --pids-limit 64 -v " +
                             shell_quote(certs.path().string() + ":/certs:ro") + " -v " +
                             shell_quote(data.path().string() + ":/data") + " " + image_id + args);
  REQUIRE_MESSAGE(started.exit_code == 0, started.output);

  http_result probe;
  for (int i = 0; i < 150 && probe.status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    probe = get(https(port, "/derp/probe"));
  }
  if (probe.status != 200) {
    MESSAGE("container log: " << run_command(docker + " logs " + name).output);
  }
  REQUIRE(probe.status == 200);
  http::request<http::empty_body> request{http::verb::get, "/derp/probe", 11};
  CHECK(sha256_raw_pin(tls_request(port, request).peer_cert_pem) == sha256_raw_pin(cert_pem));
  CHECK(tls_request(port, derp_upgrade(allowed_key), "z").response.result_int() == 101);
  CHECK(tls_request(port, derp_upgrade(refused_key)).response.result_int() == 403);
  CHECK(std::filesystem::exists(data.path() / "derper.key"));
  auto entrypoint = run_command(docker + " image inspect --format '{{json .Config.Entrypoint}}' " + image_id);
  CHECK(entrypoint.output.find(R"(["/usr/local/bin/derper"])") != std::string::npos);
}
