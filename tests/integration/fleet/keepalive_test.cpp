// The channel's keep-alive, with a short silence limit on both ends: an idle, healthy session lives on through
// many silence limits on pings and pongs alone, and an agent that really goes silent (SIGSTOP) is dropped once the
// limit has passed, then comes back on its own after SIGCONT.
#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <doctest/doctest.h>
#include <signal.h>

#include <thread>

#include "tests/integration/fleet/fleet_support.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

constexpr int ping_seconds = 1;
constexpr int silence_seconds = 6;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("an idle session outlives its silence limit; an agent that goes silent is dropped after it") {
  fleet_controller fc([](controller::controller_config& cfg) {
    cfg.agents_ping_interval_seconds = ping_seconds;
    cfg.agents_silence_limit_seconds = silence_seconds;
    cfg.agents_restart_grace_seconds = 0;  // a node without a session shows offline at once
  });
  int base = random_port_base();
  auto node = fc.create_node("keepalive", "127.0.0.6", base, base + 9);
  auto node_id = node.at("id").as_int64();
  agent_process agent("keepalive", "[controller]\nping_interval_seconds = " + std::to_string(ping_seconds) +
                                       "\nsilence_limit_seconds = " + std::to_string(silence_seconds) + "\n");
  auto [code, out] =
      agent.enroll(fc.c.agents_url(), std::string(node.at("enrollment").as_object().at("token").as_string()));
  REQUIRE_MESSAGE(code == 0, out);
  agent.start();
  auto status = [&] { return std::string(fc.node(node_id).at("status").as_string()); };
  // One connection for the polling below (a new one per query is slow and, on a busy test server, flaky).
  auto db = fc.c.db.connect();
  std::unique_ptr<sql::PreparedStatement> session_query(
      db->prepareStatement("SELECT session_started_at FROM nodes WHERE id = ? AND session_replica IS NOT NULL"));
  session_query->setInt64(1, node_id);
  // When the node's current session started; "" while it has none.
  auto session_started = [&] {
    std::unique_ptr<sql::ResultSet> rs(session_query->executeQuery());
    return rs->next() ? std::string(rs->getString(1)) : std::string();
  };
  REQUIRE_MESSAGE(wait_until([&] { return status() == "online"; }, 30s), agent.log());
  auto first_session = session_started();
  REQUIRE_FALSE(first_session.empty());

  // Idle for three silence limits: only pings and pongs cross the channel, and the same session stays up.
  auto idle_until = steady::now() + std::chrono::seconds(3 * silence_seconds);
  bool same_session = true;
  while (steady::now() < idle_until && same_session) {
    same_session = session_started() == first_session;
    std::this_thread::sleep_for(500ms);
  }
  CHECK_MESSAGE(same_session, agent.log());
  CHECK(status() == "online");
  CHECK(agent.running());
  CHECK_MESSAGE(count_of(agent.log(), "channel: connected") == 1, agent.log());
  CHECK(count_of(agent.log(), "channel: session ended") == 0);

  // The agent stops answering anything, pings included: the controller ends the session after the limit.
  REQUIRE(::kill(agent.pid(), SIGSTOP) == 0);
  auto stopped = steady::now();
  bool dropped = wait_until([&] { return session_started().empty(); }, 20s);
  auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - stopped).count();
  CHECK(dropped);
  // Beast's keep-alive pings after half the limit without a frame and gives up at the next half, so a silent peer
  // is dropped between half and all of the limit after its last frame, which came about a ping interval (two on a
  // busy machine) before the stop. And not much later: the controller does not wait for a close handshake the
  // agent would never answer.
  CHECK(waited_ms >= silence_seconds * 1000 / 2 - 2 * ping_seconds * 1000);
  CHECK(waited_ms <= (silence_seconds + 5) * 1000);
  CHECK(status() == "offline");

  // Woken up, the agent finds its session gone and dials again.
  REQUIRE(::kill(agent.pid(), SIGCONT) == 0);
  CHECK_MESSAGE(wait_until([&] { return status() == "online" && !session_started().empty(); }, 30s), agent.log());
  // The controller records the session when the hello arrives, a moment before the agent logs its welcome.
  CHECK_MESSAGE(wait_until([&] { return count_of(agent.log(), "channel: connected") == 2; }, 10s), agent.log());
  agent.terminate();
}
