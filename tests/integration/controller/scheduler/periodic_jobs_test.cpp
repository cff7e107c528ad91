#include "controller/scheduler/periodic_jobs.hpp"

#include <cppconn/connection.h>
#include <cppconn/statement.h>
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/schema_with_io.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace std::chrono_literals;

namespace {

using jobs_fixture = schema_with_io<controller::scheduler::periodic_jobs>;

int marks(const jobs_fixture& f) { return std::stoi(f.db.scalar("SELECT COUNT(*) FROM job_marks")); }

// A fixture whose job table exists and whose jobs (of replica-a) run.
std::unique_ptr<jobs_fixture> make_fixture() {
  auto f = std::make_unique<jobs_fixture>("jobs");
  f->db.execute("CREATE TABLE job_marks (id INT AUTO_INCREMENT PRIMARY KEY)");
  f->subject = std::make_unique<controller::scheduler::periodic_jobs>(f->ioc, *f->pool, f->clk, "replica-a");
  f->run_io();
  return f;
}

// Counts a job's runs (each inserts a row) and what its after-commit hook saw from another connection.
struct job_probe {
  std::atomic<int> runs{0};
  std::mutex mutex;
  std::vector<int> seen_after;  // rows visible to a separate connection when the hook ran

  std::vector<int> seen() {
    std::lock_guard lock(mutex);
    return seen_after;
  }
};

void add_marking_job(jobs_fixture& f, job_probe& probe, const std::string& name) {
  f.subject->add(
      name, std::chrono::hours(1),
      [&probe](sql::Connection& conn, time_point) {
        std::unique_ptr<sql::Statement> st(conn.createStatement());
        st->execute("INSERT INTO job_marks () VALUES ()");
        ++probe.runs;
      },
      [&probe, &f] {
        auto rows = marks(f);
        std::lock_guard lock(probe.mutex);
        probe.seen_after.push_back(rows);
      });
}

template <typename F>
bool wait_for(F done, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

}  // namespace

TEST_CASE("periodic jobs: run_soon runs a job long before its interval, and its hook runs after the commit") {
  job_probe probe;  // outlives the fixture, whose jobs refer to it
  auto fixture = make_fixture();
  auto& f = *fixture;
  auto& jobs = *f.subject;
  add_marking_job(f, probe, "marking");
  jobs.start();

  // A job runs once when the loop starts, then not again for an hour.
  REQUIRE(wait_for([&] { return probe.seen().size() == 1; }, 5s));
  std::this_thread::sleep_for(1500ms);
  CHECK(probe.runs == 1);

  jobs.run_soon("some other name");  // not a job: nothing happens
  jobs.run_soon("marking");
  auto asked = std::chrono::steady_clock::now();
  REQUIRE(wait_for([&] { return probe.seen().size() == 2; }, 5s));
  // Woken, not found by the loop's 1 s tick.
  CHECK(std::chrono::steady_clock::now() - asked < 900ms);
  CHECK(probe.runs == 2);
  // The hook ran after each commit: another connection already saw the run's row.
  CHECK(probe.seen() == std::vector<int>{1, 2});

  // Asked twice at once, it runs once or twice, never more, and the rows match the runs.
  jobs.run_soon("marking");
  jobs.run_soon("marking");
  REQUIRE(wait_for([&] { return probe.seen().size() >= 3; }, 5s));
  std::this_thread::sleep_for(1500ms);
  CHECK(probe.runs <= 4);
  CHECK(marks(f) == probe.runs);
}

TEST_CASE("periodic jobs: run_soon does not run a job whose lease another replica holds") {
  job_probe probe;  // outlives the fixture, whose jobs refer to it
  auto fixture = make_fixture();
  auto& f = *fixture;
  f.db.execute("INSERT INTO job_leases (job, holder, expires_at) VALUES ('marking', 'replica-b', '2031-01-01')");
  auto& jobs = *f.subject;
  add_marking_job(f, probe, "marking");
  jobs.start();
  std::this_thread::sleep_for(1500ms);
  jobs.run_soon("marking");
  std::this_thread::sleep_for(1000ms);
  CHECK(probe.runs == 0);
  CHECK(probe.seen().empty());
  CHECK(marks(f) == 0);

  // Once the other replica's lease has run out, this one takes it.
  f.clk.advance(std::chrono::hours(24 * 366));
  jobs.run_soon("marking");
  CHECK(wait_for([&] { return probe.seen().size() == 1; }, 5s));
  CHECK(marks(f) == 1);
}
