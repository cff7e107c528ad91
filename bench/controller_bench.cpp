// Controller benchmark (not part of ctest): the resident memory and CPU of a real `derpmgr-controller serve` process
// holding 1,000 agent sessions over mutual TLS. The nodes and their client certificates are made directly in the
// database and from the CA (as enrollment would), then one process opens 1,000 WebSocket sessions with Asio
// coroutines and speaks protocol v1 to them. Run it with bench/run_controller.sh; see bench/README.md.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "bench/proc_stats.hpp"
#include "controller/fleet/ca_files.hpp"
#include "controller/fleet/enrollment.hpp"
#include "shared/clock/clock.hpp"
#include "shared/net/net.hpp"
#include "shared/protocol/messages.hpp"
#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/x509.hpp"
#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

using steady = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

std::string env_string(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : fallback;
}

double seconds_since(steady::time_point start) { return std::chrono::duration<double>(steady::now() - start).count(); }

void report(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// `derpmgr-controller serve` as a child process with its own config, state folder and ports, optionally pinned to
// CPUs with taskset; SIGTERM (then SIGKILL) when the benchmark ends.
class controller_process {
 public:
  controller_process(const test_database& db, int handshakes_per_second, int handshake_burst, const std::string& cpus)
      : state_(fs::temp_directory_path() / ("derpmgr-bench-ctl-" + random_hex(4))), agents_port_(fleet::free_port()) {
    fs::create_directories(state_);
    auto config = (state_ / "controller.toml").string();
    {
      std::ofstream cfg(config);
      cfg << "[database]\nurl = \"" << db.url() << "\"\n"
          << "[http]\nlisten = \"127.0.0.1:" << fleet::free_port() << "\"\npublic_url = \"https://derpmgr.test\"\n"
          << "[agents]\nlisten = \"127.0.0.1:" << agents_port_ << "\"\nca_dir = \"" << (state_ / "ca").string()
          << "\"\nhandshakes_per_second = " << handshakes_per_second << "\nhandshake_burst = " << handshake_burst
          << "\n[metrics]\nlisten = \"127.0.0.1:" << fleet::free_port() << "\"\n"
          << "[state]\ndir = \"" << state_.string() << "\"\n"
          << "[log]\nlevel = \"info\"\n";
    }
    auto init = run_command(std::string(DERPMGR_CONTROLLER_BIN) + " ca init --config " + shell_quote(config));
    REQUIRE_MESSAGE(init.exit_code == 0, init.output);
    auto log = (state_ / "controller.log").string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      FILE* out = std::freopen(log.c_str(), "a", stdout);
      (void)out;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      ::setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
      ::close_range(3, ~0U, 0);
      if (cpus.empty()) {
        ::execl(DERPMGR_CONTROLLER_BIN, DERPMGR_CONTROLLER_BIN, "serve", "--config", config.c_str(),
                static_cast<char*>(nullptr));
      } else {
        // taskset execs the controller in its own place, so pid_ stays the controller's.
        ::execlp("taskset", "taskset", "-c", cpus.c_str(), DERPMGR_CONTROLLER_BIN, "serve", "--config",
                 config.c_str(), static_cast<char*>(nullptr));
      }
      ::_exit(127);
    }
  }

  ~controller_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      bool ended = fleet::wait_until([this] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, 15s);
      if (!ended) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ec;
    fs::remove_all(state_, ec);
  }
  controller_process(const controller_process&) = delete;
  controller_process& operator=(const controller_process&) = delete;

  pid_t pid() const { return pid_; }
  int agents_port() const { return agents_port_; }
  fs::path ca_dir() const { return state_ / "ca"; }
  std::string log_tail() const {
    std::ifstream in(state_ / "controller.log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
  }
  std::size_t log_count(const std::string& needle) const {
    std::ifstream in(state_ / "controller.log");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      n += line.find(needle) != std::string::npos ? 1 : 0;
    }
    return n;
  }

 private:
  fs::path state_;
  int agents_port_;
  pid_t pid_ = -1;
};

bool accepts_tcp(int port) {
  net::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  return !ec;
}

// One simulated node: its id and the key and client certificate enrollment would have left on the host.
struct simulated_node {
  std::uint64_t id = 0;
  std::string key_pem;
  std::string cert_pem;
};

// Inserts `count` enrolled nodes (ids 1..count) with certificates from the CA, recording each serial as
// enrollment does (node_repository::set_certificate).
std::vector<simulated_node> make_nodes(const test_database& db, const certificate_authority& ca, int count) {
  std::vector<simulated_node> nodes;
  auto conn = db.connect();
  conn->setAutoCommit(false);
  std::unique_ptr<sql::PreparedStatement> insert(conn->prepareStatement(
      "INSERT INTO nodes (id, name, region, public_ipv4, bind_ip, port_min, port_max, capacity, cert_serial, "
      "cert_expires_at, enrolled_at, created_at, updated_at) "
      "VALUES (?, ?, 'bench', ?, ?, 20000, 20099, 100, ?, ?, NOW(6), NOW(6), NOW(6))"));
  auto wall = std::chrono::system_clock::now();
  for (int i = 0; i < count; ++i) {
    simulated_node n;
    n.id = static_cast<std::uint64_t>(i + 1);
    n.key_pem = generate_ec_key_pem();
    certificate_request req;
    req.csr_pem = make_csr(n.key_pem);
    req.common_name = controller::fleet::node_common_name(n.id);
    req.usage = certificate_usage::client;
    req.not_before = wall - std::chrono::minutes(5);
    req.not_after = wall + controller::fleet::enrollment::certificate_lifetime;
    auto issued = ca.issue(req);
    n.cert_pem = issued.cert_pem;
    auto ip = "127.1." + std::to_string(n.id / 250) + "." + std::to_string(n.id % 250 + 1);
    insert->setUInt64(1, n.id);
    insert->setString(2, "bench-" + std::to_string(n.id));
    insert->setString(3, ip);
    insert->setString(4, ip);
    insert->setString(5, issued.serial_hex);
    insert->setString(6, format_sql_datetime(std::chrono::time_point_cast<std::chrono::microseconds>(issued.not_after)));
    insert->executeUpdate();
    nodes.push_back(std::move(n));
  }
  conn->commit();
  return nodes;
}

// What the simulated agents have seen, updated from the client thread.
struct fleet_counters {
  std::atomic<int> connected{0};   // welcome and desired_snapshot received, status sent
  std::atomic<int> live{0};        // sessions currently open
  std::atomic<int> retries{0};     // connection attempts that failed and were retried
  std::atomic<int> failed{0};      // agents that gave up
  std::atomic<int> deltas{0};      // desired_delta frames received
  std::atomic<int> dropped{0};     // sessions the controller ended
};

struct client_settings {
  tcp::endpoint controller;
  std::string ca_pem;
  std::chrono::milliseconds start_delay{0};
  int max_attempts = 30;
};

// One agent's session: connect (retrying as a real agent would when the listener sheds handshakes), hello,
// welcome + snapshot, a status, then read until the end (Beast answers the controller's pings while reading).
net::awaitable<void> run_agent(simulated_node node, client_settings settings, fleet_counters* counters) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  timer.expires_after(settings.start_delay);
  co_await timer.async_wait(use_tuple);

  net::ssl::context tls(net::ssl::context::tls_client);
  tls.use_certificate_chain(net::buffer(node.cert_pem));
  tls.use_private_key(net::buffer(node.key_pem), net::ssl::context::pem);
  tls.add_certificate_authority(net::buffer(settings.ca_pem));
  tls.set_verify_mode(net::ssl::verify_peer);

  std::mt19937 jitter(static_cast<unsigned>(node.id));
  for (int attempt = 0; attempt < settings.max_attempts; ++attempt) {
    if (attempt > 0) {
      counters->retries++;
      timer.expires_after(std::chrono::milliseconds(500 + jitter() % 1500));
      co_await timer.async_wait(use_tuple);
    }
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(executor, tls);
    auto& lowest = beast::get_lowest_layer(ws);
    lowest.expires_after(10s);
    auto [cec] = co_await lowest.async_connect(settings.controller, use_tuple);
    if (cec) {
      continue;
    }
    auto [hec] = co_await ws.next_layer().async_handshake(net::ssl::stream_base::client, use_tuple);
    if (hec) {
      continue;
    }
    lowest.expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    auto [wec] = co_await ws.async_handshake("derpmgr-controller", std::string(protocol::connect_path), use_tuple);
    if (wec) {
      continue;
    }
    protocol::hello hello;
    hello.agent_version = "bench";
    hello.host = {"bench-" + std::to_string(node.id), "bench", "bench"};
    auto [hw, hn] = co_await ws.async_write(net::buffer(protocol::encode(hello)), use_tuple);
    if (hw) {
      continue;
    }
    beast::flat_buffer buffer;
    bool welcomed = false;
    bool counted = false;
    for (;;) {
      auto [rec, rn] = co_await ws.async_read(buffer, use_tuple);
      if (rec) {
        break;
      }
      auto frame = protocol::parse_frame(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      if (frame.type == "welcome") {
        welcomed = true;
      } else if (frame.type == "desired_snapshot" && welcomed && !counted) {
        auto state = protocol::snapshot_from(frame.body);
        protocol::status status{state.generation, {}, {}};
        auto [sw, sn] = co_await ws.async_write(net::buffer(protocol::encode(status)), use_tuple);
        if (sw) {
          break;
        }
        counted = true;
        counters->connected++;
        counters->live++;
      } else if (frame.type == "desired_delta") {
        counters->deltas++;
      }
    }
    if (counted) {
      counters->live--;
      counters->dropped++;
      co_return;  // the session was up; the benchmark reports drops rather than reconnecting
    }
  }
  counters->failed++;
}

template <class Condition>
bool wait_for(Condition condition, std::chrono::seconds timeout) {
  return fleet::wait_until([&] { return condition(); }, std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

}  // namespace

TEST_CASE("bench: controller holding 1,000 agent sessions over mutual TLS") {
  const int count = env_int("DERPMGR_BENCH_AGENTS", 1000);
  const int hold_seconds = env_int("DERPMGR_BENCH_HOLD_SECONDS", 60);
  const int handshakes_per_second = env_int("DERPMGR_BENCH_HANDSHAKES_PER_SECOND", 100);  // the default
  const int handshake_burst = env_int("DERPMGR_BENCH_HANDSHAKE_BURST", 200);             // the default
  // Agents start at this rate; a little under the listener's limit, so few handshakes are shed.
  const int connect_rate = env_int("DERPMGR_BENCH_CONNECT_RATE", 90);
  const std::string cpus = env_string("DERPMGR_BENCH_CONTROLLER_CPUS", "0");

  test_database db("benchctl");
  controller_process controller(db, handshakes_per_second, handshake_burst, cpus);
  REQUIRE_MESSAGE(wait_for([&] { return accepts_tcp(controller.agents_port()); }, 60s), controller.log_tail());
  report(bench::describe("controller, started, no agents, 10 s", bench::sample_for(controller.pid(), 10s)));

  auto setup = steady::now();
  auto ca = controller::fleet::load_ca(controller.ca_dir());
  auto nodes = make_nodes(db, ca, count);
  char line[512];
  std::snprintf(line, sizeof line, "bench: %d nodes with client certificates made in %.1f s (not measured)", count,
                seconds_since(setup));
  report(line);
  std::this_thread::sleep_for(2s);  // the hub's revocation cache reloads every second

  fleet_counters counters;
  net::io_context io(1);
  client_settings settings;
  settings.controller = tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                      static_cast<unsigned short>(controller.agents_port()));
  settings.ca_pem = ca.cert_pem();
  for (int i = 0; i < count; ++i) {
    settings.start_delay = std::chrono::milliseconds(i * 1000 / connect_rate);
    net::co_spawn(io, run_agent(nodes[static_cast<std::size_t>(i)], settings, &counters), net::detached);
  }
  auto start = steady::now();
  bench::background_sampler connecting(controller.pid());
  std::thread client([&io] { io.run(); });
  struct client_stop {
    net::io_context& io;
    std::thread& thread;
    ~client_stop() {
      io.stop();
      if (thread.joinable()) {
        thread.join();
      }
    }
  } stop_client{io, client};

  bool all_connected = wait_for([&] { return counters.connected + counters.failed >= count; }, 600s);
  auto connect_stats = connecting.stop();
  std::snprintf(line, sizeof line,
                "bench: %d/%d agents connected (hello, welcome, snapshot, status) in %.1f s at %d starts/s, "
                "%d retried handshakes, %d gave up",
                counters.connected.load(), count, seconds_since(start), connect_rate, counters.retries.load(),
                counters.failed.load());
  report(line);
  REQUIRE_MESSAGE(all_connected, controller.log_tail());
  REQUIRE_MESSAGE(counters.connected == count, controller.log_tail());
  report(bench::describe("controller, accepting " + std::to_string(count) + " agents", connect_stats));

  std::this_thread::sleep_for(5s);  // the status writes of the last arrivals
  auto held = bench::sample_for(controller.pid(), std::chrono::seconds(hold_seconds));
  report(bench::describe("controller, holding " + std::to_string(count) + " agents", held));
  std::snprintf(line, sizeof line, "bench: %d sessions open after the hold, %d ended by the controller",
                counters.live.load(), counters.dropped.load());
  report(line);
  CHECK(counters.live == count);
  CHECK(db.scalar("SELECT COUNT(*) FROM nodes WHERE session_replica IS NOT NULL") == std::to_string(count));
  CHECK(db.scalar("SELECT COUNT(*) FROM nodes WHERE applied_generation = desired_generation") ==
        std::to_string(count));

  // A desired-state change on every node at once: each session must notice it and send a delta.
  start = steady::now();
  bench::background_sampler fanning(controller.pid());
  db.execute("UPDATE nodes SET desired_generation = desired_generation + 1");
  bool all_deltas = wait_for([&] { return counters.deltas >= count; }, 60s);
  auto fan_stats = fanning.stop();
  std::snprintf(line, sizeof line, "bench: a generation bump on all %d nodes reached %d agents as deltas in %.1f s",
                count, counters.deltas.load(), seconds_since(start));
  report(line);
  CHECK(all_deltas);
  report(bench::describe("controller, fanning out " + std::to_string(count) + " deltas", fan_stats));
  std::snprintf(line, sizeof line, "bench: controller log: %zu \"connected\", %zu \"disconnected\", %zu warnings",
                controller.log_count(" connected (agent"), controller.log_count("disconnected ("),
                controller.log_count(" warning "));
  report(line);
}
