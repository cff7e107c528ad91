#include "controller/audit/audit_log.hpp"

#include <cppconn/connection.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "controller/audit/audit_chain.hpp"
#include "tests/integration/controller/audit/audit_fixture.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::controller::audit;

namespace {

// A failure the test throws to make the pool roll the transaction back.
struct rollback_requested : std::runtime_error {
  rollback_requested() : std::runtime_error("roll back") {}
};

audit_entry admin_entry(std::uint64_t admin_id, const std::string& action, const std::string& target) {
  audit_entry e;
  e.actor_kind = audit_actor::admin;
  e.actor_id = admin_id;
  e.action = action;
  e.target = target;
  e.ip = "198.51.100.7";
  e.user_agent = "Mozilla/5.0";
  return e;
}

net::awaitable<std::uint64_t> append_in_transaction(controller::db::connection_pool* pool, int n, time_point at) {
  co_return co_await pool->transact([n, at](sql::Connection& conn) {
    return audit_log{}.append(conn, admin_entry(1, "test.concurrent", "item:" + std::to_string(n)), at);
  });
}

}  // namespace

TEST_CASE("an audit append whose transaction rolls back leaves no row and the head unchanged") {
  audit_fixture f;
  auto at = f.clock.now();
  CHECK_THROWS_AS(f.pool.run_blocking(
                      [&](sql::Connection& conn) {
                        audit_log{}.append(conn, admin_entry(1, "admin.role.grant", "admin:2"), at);
                        throw rollback_requested();
                      },
                      true),
                  rollback_requested);
  CHECK(f.db.scalar("SELECT COUNT(*) FROM audit_log") == "0");
  CHECK(f.db.scalar("SELECT seq FROM audit_head WHERE id = 1") == "0");
  CHECK(f.db.scalar("SELECT hash FROM audit_head WHERE id = 1") == std::string(genesis_hash));

  // The next append that commits takes seq 1: the rolled-back one left no gap.
  CHECK(f.append(admin_entry(1, "admin.role.grant", "admin:2")) == 1);
  CHECK(f.db.scalar("SELECT seq FROM audit_head WHERE id = 1") == "1");
  CHECK(f.verify().intact());
}

TEST_CASE("audit append refuses to run outside a transaction") {
  audit_fixture f;
  auto at = f.clock.now();
  CHECK_THROWS_AS(f.pool.run_blocking(
                      [&](sql::Connection& conn) { audit_log{}.append(conn, admin_entry(1, "a.b", "c"), at); }, false),
                  std::logic_error);
  CHECK(f.db.scalar("SELECT COUNT(*) FROM audit_log") == "0");
}

TEST_CASE("50 audit appends from 8 pool threads get seqs 1..50 without gaps and verify") {
  audit_fixture f;
  net::io_context io;
  std::vector<std::future<std::uint64_t>> pending;
  pending.reserve(50);
  for (int n = 0; n < 50; ++n) {
    pending.push_back(net::co_spawn(io, append_in_transaction(&f.pool, n, f.clock.now()), net::use_future));
  }
  io.run();
  std::vector<std::uint64_t> seqs;
  seqs.reserve(pending.size());
  for (auto& p : pending) {
    seqs.push_back(p.get());
  }
  std::sort(seqs.begin(), seqs.end());
  std::vector<std::uint64_t> expected(50);
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(seqs == expected);
  CHECK(f.db.scalar("SELECT COUNT(*) FROM audit_log") == "50");
  CHECK(f.db.scalar("SELECT MAX(seq) FROM audit_log") == "50");
  CHECK(f.db.scalar("SELECT COUNT(DISTINCT target) FROM audit_log") == "50");
  auto result = f.verify();
  CHECK(result.intact());
  CHECK(result.entries == 50);
}

TEST_CASE("awkward audit text reads back exactly as hashed") {
  audit_fixture f;
  audit_entry e;
  e.actor_kind = audit_actor::customer;
  e.actor_id = 18446744073709551615ULL;
  e.action = "me.device.add";
  e.target = "device:\xE8\xAE\xBE\xE5\xA4\x87 ";  // trailing space kept
  e.ip = "2001:db8::1";
  e.user_agent = std::string(300, 'x') + "\xF0\x9F\x98\x80";
  e.details = audit_details({{"name", "laptop \xF0\x9F\x92\xBB\t\"quoted\"\\"}, {"note", ""}});
  f.append(e);

  audit_entry system_entry;
  system_entry.action = "system.job.run";
  f.clock.set(time_point{std::chrono::sys_days{std::chrono::year{2026} / 6 / 1}.time_since_epoch()});  // .000000
  f.append(system_entry);

  CHECK(f.db.scalar("SELECT actor_id IS NULL FROM audit_log WHERE seq = 2") == "1");
  CHECK(f.db.scalar("SELECT CHAR_LENGTH(user_agent) FROM audit_log WHERE seq = 1") == "255");
  auto result = f.verify();
  CHECK(result.intact());
  CHECK(result.entries == 2);
}

TEST_CASE("audit verify finds tampering at the right seq") {
  audit_fixture f;
  f.append_steps(10);
  REQUIRE(f.verify().intact());

  std::optional<audit_problem> problem;
  SUBCASE("altered details") {
    f.db.execute("UPDATE audit_log SET details = '{\"forged\":true}' WHERE seq = 4");
    problem = f.verify().problem;
    REQUIRE(problem);
    CHECK(problem->seq == 4);
    CHECK(problem->fault == audit_fault::altered);
  }
  SUBCASE("altered time") {
    f.db.execute("UPDATE audit_log SET at = at + INTERVAL 1 MICROSECOND WHERE seq = 9");
    problem = f.verify().problem;
    REQUIRE(problem);
    CHECK(problem->seq == 9);
    CHECK(problem->fault == audit_fault::altered);
  }
  SUBCASE("a middle row deleted") {
    f.db.execute("DELETE FROM audit_log WHERE seq = 5");
    auto result = f.verify();
    REQUIRE(result.problem);
    CHECK(result.problem->seq == 5);
    CHECK(result.problem->fault == audit_fault::missing_row);
    CHECK(result.entries == 4);
  }
  SUBCASE("the last row deleted") {
    f.db.execute("DELETE FROM audit_log WHERE seq = 10");
    problem = f.verify().problem;
    REQUIRE(problem);
    CHECK(problem->seq == 10);
    CHECK(problem->fault == audit_fault::missing_tail);
  }
  SUBCASE("two rows swapped") {
    f.db.execute("UPDATE audit_log SET seq = 1000 WHERE seq = 3");
    f.db.execute("UPDATE audit_log SET seq = 3 WHERE seq = 7");
    f.db.execute("UPDATE audit_log SET seq = 7 WHERE seq = 1000");
    problem = f.verify().problem;
    REQUIRE(problem);
    CHECK(problem->seq == 3);
    CHECK(problem->fault == audit_fault::out_of_order);
  }
  SUBCASE("a row added past the head") {
    f.db.execute(
        "INSERT INTO audit_log (seq, at, actor_kind, actor_id, action, target, ip, user_agent, details, prev_hash, "
        "hash) SELECT 11, at, actor_kind, actor_id, action, target, ip, user_agent, details, hash, hash "
        "FROM audit_log WHERE seq = 10");
    problem = f.verify().problem;
    REQUIRE(problem);
    CHECK(problem->seq == 11);
    CHECK(problem->fault == audit_fault::beyond_head);
  }
  SUBCASE("appending after the log was broken keeps it broken") {
    f.db.execute("UPDATE audit_log SET target = 'step:99' WHERE seq = 2");
    f.append_steps(1);
    problem = f.verify().problem;
    REQUIRE(problem);
    CHECK(problem->seq == 2);
  }
}
