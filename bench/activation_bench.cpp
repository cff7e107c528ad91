// Activation benchmark (not part of ctest): how long a customer waits from redeeming a serial until all three of
// their derpers answer GET /derp/probe over TLS with the pinned certificate. An in-process controller with its
// production job intervals, three nodes on 127.0.0.x with real derpmgr-agent processes of the same build, the
// derper stand-in image. Run it with bench/run_activation.sh; see bench/README.md.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "shared/tls/x509.hpp"
#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/integration/rentals/rental_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Wall-clock time throughout: Docker's event times and file modification times are wall-clock too.
using wall = std::chrono::system_clock;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

double ms_between(wall::time_point from, wall::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

void report(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string unix_seconds(wall::time_point t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f",
                std::chrono::duration<double>(t.time_since_epoch()).count());
  return buf;
}

struct bench_node {
  std::int64_t id = 0;
  std::string ip;
  std::unique_ptr<agent_process> agent;
};

// A node on `ip` with a running agent logging at info, as in production (agent_process logs at debug for tests).
bench_node add_node(fleet_controller& fc, const std::string& ip, const std::string& region, int slots) {
  int base = random_port_base();
  json::object body{{"name", unique_name("act")}, {"region", region},       {"public_ipv4", ip},
                    {"bind_ip", ip},              {"port_min", base},       {"port_max", base + slots - 1},
                    {"capacity", slots},          {"provider", "loopback"}};
  auto r = fc.admin.post("/api/v1/admin/nodes", json::serialize(body));
  REQUIRE_MESSAGE(r.status == 201, r.body);
  auto node = json_of(r);
  bench_node n{node.at("id").as_int64(), ip, std::make_unique<agent_process>("act")};
  auto path = n.agent->state_dir() / "agent.toml";
  std::string text;
  {
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  text.replace(text.find("\"debug\""), 7, "\"info\"");
  std::ofstream(path) << text;
  auto [code, out] =
      n.agent->enroll(fc.c.agents_url(), std::string(node.at("enrollment").as_object().at("token").as_string()));
  REQUIRE_MESSAGE(code == 0, out);
  n.agent->start();
  REQUIRE(wait_until([&] { return fc.node(n.id).at("status").as_string() == "online"; }, 30s));
  return n;
}

// A verified customer signed in with their own client address (sign-up is not measured; the address is marked
// verified in SQL, as the commerce benchmark does).
std::unique_ptr<browser> make_customer(fleet_controller& fc, int index) {
  auto b = std::make_unique<browser>(fc.c.base_url(), test_origin);
  b->set_forwarded_for("10.78." + std::to_string(index / 250) + "." + std::to_string(index % 250 + 1));
  auto email = unique_name("activation") + "@example.com";
  std::string creds = R"({"email":")" + email + R"(","password":"customer passphrase"})";
  REQUIRE(b->post("/api/v1/auth/register", creds).status == 201);
  fc.c.db.execute("UPDATE users SET email_verified_at = NOW(6) WHERE email = '" + email + "'");
  REQUIRE(b->post("/api/v1/auth/login", creds).status == 200);
  return b;
}

// GET /derp/probe over TLS in this process, as a DERP client's prober does: the status and the served leaf's
// sha256-raw pin (fleet_support's probe() runs curl and openssl, too slow to time with). No certificate
// verification and no SNI for an IP literal, as curl -k does.
struct probe_answer {
  int status = 0;
  std::string pin;
};

probe_answer probe_tls(const std::string& ip, int port) {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  probe_answer out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return out;
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) == 1) {
    if (X509* leaf = SSL_get1_peer_certificate(ssl)) {
      BIO* bio = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(bio, leaf);
      char* data = nullptr;
      long len = BIO_get_mem_data(bio, &data);
      out.pin = sha256_raw_pin(std::string(data, static_cast<std::size_t>(len)));
      BIO_free(bio);
      X509_free(leaf);
    }
    std::string req = "GET /derp/probe HTTP/1.1\r\nHost: " + ip + ":" + std::to_string(port) +
                      "\r\nConnection: close\r\n\r\n";
    if (SSL_write(ssl, req.data(), static_cast<int>(req.size())) > 0) {
      std::string head;
      char buf[512];
      while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
          break;
        }
        head.append(buf, static_cast<std::size_t>(n));
      }
      if (head.rfind("HTTP/1.", 0) == 0 && head.size() >= 12) {
        out.status = std::atoi(head.c_str() + 9);
      }
    }
  }
  SSL_free(ssl);
  ::close(fd);
  return out;
}

// When a file was last written; the epoch when it does not exist.
wall::time_point modified_at(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return wall::time_point{std::chrono::duration_cast<wall::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                     std::chrono::nanoseconds(st.st_mtim.tv_nsec))};
}

// One server of an activation and when each step of it was seen.
struct server_times {
  std::int64_t allocation_id = 0;
  std::int64_t node_id = 0;
  std::string host;
  int port = 0;
  std::string pin;
  wall::time_point delivered{};  // the agent wrote the desired state naming it (desired.json's mtime)
  wall::time_point requested{};  // Docker began creating its container (the container's Created time)
  wall::time_point created{};    // Docker finished creating it (the "create" event, after the vfs copy)
  // Docker recorded it started (State.StartedAt, set once the container's task runs; the derper may answer a few
  // ms before it; Docker's "start" event comes later still).
  wall::time_point running{};
  wall::time_point answered{};   // the first probe answering 200 with the pin

  std::string container() const {
    return "derpmgr-" + std::to_string(node_id) + "-" + std::to_string(allocation_id);
  }
};

struct activation {
  wall::time_point sent{};      // POST /api/v1/me/redeem sent
  wall::time_point redeemed{};  // its 200 answer received
  wall::time_point placed{};    // the rental's three allocations visible in the database
  std::vector<server_times> servers;

  // The server that answered last: its timeline is the activation's critical path.
  const server_times& last() const {
    return *std::max_element(servers.begin(), servers.end(),
                             [](const auto& a, const auto& b) { return a.answered < b.answered; });
  }
  double total_ms() const { return ms_between(sent, last().answered); }
};

// The rental's live allocations (polled on one connection while the placement job has not run).
std::vector<server_times> allocations_of(sql::Connection& conn, std::int64_t rental_id) {
  std::unique_ptr<sql::PreparedStatement> ps(conn.prepareStatement(
      "SELECT id, node_id, public_host, port, cert_pin FROM allocations WHERE rental_id = ? AND released_at IS NULL "
      "ORDER BY id"));
  ps->setInt64(1, rental_id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<server_times> out;
  while (rs->next()) {
    server_times s;
    s.allocation_id = rs->getInt64(1);
    s.node_id = rs->getInt64(2);
    s.host = rs->getString(3);
    s.port = rs->getInt(4);
    s.pin = rs->getString(5);
    out.push_back(std::move(s));
  }
  return out;
}

// A Docker time (RFC 3339 with nanoseconds, UTC); the epoch when it is not one.
wall::time_point parse_docker_time(const std::string& text) {
  int y = 0, h = 0, mi = 0, sec = 0, consumed = 0;
  unsigned mo = 0, d = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6) {
    return {};
  }
  std::int64_t nanos = 0;
  int digits = 0;
  for (auto i = static_cast<std::size_t>(consumed) + 1;
       text[static_cast<std::size_t>(consumed)] == '.' && i < text.size() && std::isdigit(text[i]) != 0; ++i) {
    if (digits < 9) {
      nanos = nanos * 10 + (text[i] - '0');
      ++digits;
    }
  }
  for (; digits < 9; ++digits) {
    nanos *= 10;
  }
  auto day = std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  return wall::time_point{std::chrono::duration_cast<wall::duration>(
      day.time_since_epoch() + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) +
      std::chrono::nanoseconds(nanos))};
}

// Docker's own times for the activation's containers, read after it completed (and before they are removed): when
// each was created and started (docker inspect) and when its creation finished (the engine's event log).
void read_docker_times(activation& a) {
  std::string names;
  for (const auto& s : a.servers) {
    names += " " + s.container();
  }
  auto inspected = run_command("docker inspect --format '{{.Name}} {{.Created}} {{.State.StartedAt}}'" + names);
  REQUIRE_MESSAGE(inspected.exit_code == 0, inspected.output);
  std::istringstream lines(inspected.output);
  std::string name, created, started;
  while (lines >> name >> created >> started) {
    for (auto& s : a.servers) {
      if (name.size() > 1 && name.substr(1) == s.container()) {  // inspect's names start with a slash
        s.requested = parse_docker_time(created);
        s.running = parse_docker_time(started);
      }
    }
  }
  auto events = run_command("docker events --since " + unix_seconds(a.sent - 1s) + " --until " +
                            unix_seconds(wall::now()) +
                            " --filter type=container --filter event=create "
                            "--format '{{.TimeNano}} {{index .Actor.Attributes \"name\"}}'");
  REQUIRE_MESSAGE(events.exit_code == 0, events.output);
  std::istringstream event_lines(events.output);
  long long nanos = 0;
  while (event_lines >> nanos >> name) {
    for (auto& s : a.servers) {
      if (name == s.container()) {
        s.created = wall::time_point{std::chrono::duration_cast<wall::duration>(std::chrono::nanoseconds(nanos))};
      }
    }
  }
}

struct stats {
  double median = 0, p95 = 0, min = 0, max = 0;
};

// Median (the mean of the middle two for an even count) and p95 by nearest rank (the 19th of 20).
stats stats_of(std::vector<double> v) {
  stats s;
  if (v.empty()) {
    return s;
  }
  std::sort(v.begin(), v.end());
  auto n = v.size();
  s.median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.p95 = v[static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(n))) - 1];
  s.min = v.front();
  s.max = v.back();
  return s;
}

std::string stats_line(const std::string& what, const std::vector<double>& v) {
  auto s = stats_of(v);
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-48s median %7.0f ms  p95 %7.0f ms  min %7.0f ms  max %7.0f ms", what.c_str(),
                s.median, s.p95, s.min, s.max);
  return buf;
}

// The steps of an activation for one of its servers; together they cover redemption sent -> the server answering.
struct step {
  const char* name;
  const char* short_name;
  double (*ms)(const activation&, const server_times&);
};

const step steps[] = {
    {"redeem (HTTPS request on a new TLS connection)", "redeem",
     [](const activation& a, const server_times&) { return ms_between(a.sent, a.redeemed); }},
    {"placement wait (the 3 allocations visible)", "placement",
     [](const activation& a, const server_times&) { return ms_between(a.redeemed, a.placed); }},
    {"desired-state delivery (the agent wrote it)", "delivery",
     [](const activation& a, const server_times& s) { return ms_between(a.placed, s.delivered); }},
    {"agent -> Docker (checks, create request)", "agent",
     [](const activation&, const server_times& s) { return ms_between(s.delivered, s.requested); }},
    {"container create (Docker, vfs copy)", "create",
     [](const activation&, const server_times& s) { return ms_between(s.requested, s.created); }},
    {"container start (create done -> StartedAt)", "start",
     [](const activation&, const server_times& s) { return ms_between(s.created, s.running); }},
    {"first probe (StartedAt -> 200 with the pin)", "probe",
     [](const activation&, const server_times& s) { return ms_between(s.running, s.answered); }},
};

}  // namespace

TEST_CASE("bench: redemption to three derpers answering /derp/probe") {
  const int activations = env_int("DERPMGR_BENCH_ACTIVATIONS", 20);
  const auto deadline = std::chrono::seconds(env_int("DERPMGR_BENCH_ACTIVATION_TIMEOUT", 180));
  const auto poll = std::chrono::milliseconds(env_int("DERPMGR_BENCH_POLL_MS", 10));

  fleet_controller fc;
  rentals::cleanup cleanup;
  std::random_device rd;
  std::mt19937 rng(rd());
  const int first_ip = 100 + static_cast<int>(rd() % 97);
  const char* regions[] = {"tokyo", "osaka", "seoul"};
  // Cancelled rentals keep their allocations reserved (ports and certificates) for reservation_days, so every
  // activation takes one more slot per node.
  std::vector<bench_node> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(add_node(fc, "127.0.0." + std::to_string(first_ip + i), regions[i], activations + 2));
    cleanup.nodes.push_back(nodes.back().id);
  }
  std::map<std::int64_t, const bench_node*> node_by_id;
  for (const auto& n : nodes) {
    node_by_id[n.id] = &n;
  }
  auto codes = rentals::serials(fc, activations);
  auto conn = fc.c.db.connect();
  report("activation: controller in process (placement job every 2 s on a 1 s scheduler tick; fleet hub refresh "
         "1 s; agent session writer wakes every 1 s), 3 nodes on 127.0.0." + std::to_string(first_ip) + "-" +
         std::to_string(first_ip + 2) + " with real agents, image " + services::from_env().derper_image +
         ", polling every " + std::to_string(poll.count()) + " ms");

  std::vector<activation> done;
  std::uniform_int_distribution<int> phase(0, 1999);
  for (int i = 0; i < activations; ++i) {
    auto buyer = make_customer(fc, i);
    std::map<std::int64_t, wall::time_point> before;
    for (const auto& n : nodes) {
      before[n.id] = modified_at(n.agent->state_dir() / "desired.json");
    }
    // Redemptions land at random points of the job and refresh cycles, as customers' do.
    std::this_thread::sleep_for(std::chrono::milliseconds(phase(rng)));

    activation a;
    a.sent = wall::now();
    auto r = buyer->post("/api/v1/me/redeem", R"({"serial":")" + codes[static_cast<std::size_t>(i)] + R"("})");
    a.redeemed = wall::now();
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto rental_id = json_of(r).at("rental_id").to_number<std::int64_t>();

    std::size_t answered = 0;
    while (answered < 3) {
      REQUIRE_MESSAGE(wall::now() - a.sent < deadline, "activation " << i << " did not complete");
      if (a.servers.empty()) {
        auto found = allocations_of(*conn, rental_id);
        if (found.size() == 3) {
          a.placed = wall::now();
          a.servers = std::move(found);
        }
      }
      for (const auto& n : nodes) {
        auto m = modified_at(n.agent->state_dir() / "desired.json");
        if (m == before[n.id]) {
          continue;
        }
        before[n.id] = m;
        if (a.servers.empty()) {
          continue;  // written before the placement: not this activation's delivery
        }
        for (auto& s : a.servers) {
          if (s.node_id == n.id && s.delivered == wall::time_point{}) {
            s.delivered = m;
          }
        }
      }
      for (auto& s : a.servers) {
        if (s.answered != wall::time_point{}) {
          continue;
        }
        auto p = probe_tls(s.host, s.port);
        if (p.status == 200) {
          REQUIRE_MESSAGE(p.pin == s.pin, s.host << ":" << s.port << " serves " << p.pin << ", not " << s.pin);
          s.answered = wall::now();
          ++answered;
        }
      }
      std::this_thread::sleep_for(poll);
    }
    read_docker_times(a);
    for (const auto& s : a.servers) {
      CHECK_MESSAGE(s.delivered != wall::time_point{}, "no desired state seen on node " << s.node_id);
      CHECK_MESSAGE(s.requested != wall::time_point{}, "no Created time for " << s.container());
      CHECK_MESSAGE(s.created != wall::time_point{}, "no create event for " << s.container());
      CHECK_MESSAGE(s.running != wall::time_point{}, "no StartedAt for " << s.container());
      CHECK(s.delivered <= s.requested);
      CHECK(s.requested <= s.created);
      CHECK(s.created <= s.running);
      CHECK(s.running <= s.answered + 100ms);
      CHECK(s.delivered >= a.placed - poll - 100ms);  // placement is seen up to a poll (and a query) late
    }
    std::set<std::int64_t> hosts;
    for (const auto& s : a.servers) {
      hosts.insert(s.node_id);
      // The pin check once more from outside (curl and openssl), untimed.
      CHECK(probe(s.host, s.port).pin == s.pin);
    }
    CHECK(hosts.size() == 3);
    char line[512];
    std::snprintf(line, sizeof line, "activation %2d: %6.0f ms |", i + 1, a.total_ms());
    std::string text = line;
    for (const auto& st : steps) {
      std::snprintf(line, sizeof line, " %s %.0f", st.short_name, st.ms(a, a.last()));
      text += line;
    }
    report(text + " (slowest server: node " + std::to_string(a.last().node_id) + ")");
    done.push_back(std::move(a));

    // Cancel it and wait until its containers are gone, so containers do not pile up on the vfs driver.
    auto cancelled = fc.admin.post("/api/v1/admin/rentals/" + std::to_string(rental_id) + "/cancel",
                                   R"({"reason":"benchmark"})");
    REQUIRE_MESSAGE(cancelled.status == 200, cancelled.body);
    REQUIRE(wait_until([&] {
      return std::all_of(nodes.begin(), nodes.end(), [](const bench_node& n) { return node_containers(n.id).empty(); });
    }, 120s));
  }

  report("activation: " + std::to_string(done.size()) + " activations, redemption sent -> all three answering "
         "/derp/probe with their pins");
  std::vector<double> total;
  for (const auto& a : done) {
    total.push_back(a.total_ms());
  }
  report(stats_line("total", total));
  report("  the slowest server of each activation, step by step (the steps add up to its total):");
  for (const auto& st : steps) {
    std::vector<double> v;
    for (const auto& a : done) {
      v.push_back(st.ms(a, a.last()));
    }
    report(stats_line(st.name, v));
  }
  report("  every server (" + std::to_string(done.size() * 3) + "):");
  std::vector<double> each;
  for (const auto& a : done) {
    for (const auto& s : a.servers) {
      each.push_back(ms_between(a.sent, s.answered));
    }
  }
  report(stats_line("redemption -> this server answering", each));
  for (const auto& st : steps) {
    std::vector<double> v;
    for (const auto& a : done) {
      for (const auto& s : a.servers) {
        v.push_back(st.ms(a, s));
      }
    }
    report(stats_line(st.name, v));
  }
  // Delivery waits for two 1 s loops that do not know about each other (the hub's refresh, then the session's
  // writer); their phase is a property of each session, so it is shown per node.
  report("  desired-state delivery per node:");
  for (const auto& n : nodes) {
    std::vector<double> mine;
    for (const auto& a : done) {
      for (const auto& s : a.servers) {
        if (s.node_id == n.id) {
          mine.push_back(ms_between(a.placed, s.delivered));
        }
      }
    }
    report(stats_line("node " + std::to_string(n.id) + " (" + n.ip + ")", mine));
  }
  for (auto& n : nodes) {
    n.agent->terminate();
  }
}
