#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"
#include "shared/net/net.hpp"

namespace boost::asio {
class io_context;
}

namespace derpmgr {
class wakeable_loop;
}

namespace sql {
class Connection;
}

namespace derpmgr::controller::db {
class connection_pool;
}

namespace derpmgr::controller::scheduler {

// Scheduled jobs: each runs every `every` in one transaction on one replica at a time (the lease row in
// job_leases is taken in the same transaction). Business time comes from the injected clock.
class periodic_jobs {
 public:
  using work = std::function<void(sql::Connection&, time_point now)>;
  // Runs on this replica after a run of the job has committed (not when another replica held the lease).
  using after_commit = std::function<void()>;

  periodic_jobs(boost::asio::io_context& ioc, db::connection_pool& pool, const clock& clk, std::string holder);
  ~periodic_jobs();

  void add(std::string name, std::chrono::seconds every, work job, after_commit after = {});
  void start();
  void stop();
  // Runs each job once now, blocking (tests and the CLI).
  void run_all_now();
  // Runs the named job at once instead of waiting for its interval, but not sooner than 200 ms after its last start
  // (from any thread; a name that is not a job is ignored). Its lease still decides which replica runs it.
  void run_soon(const std::string& name);

 private:
  struct job {
    std::string name;
    std::chrono::seconds every;
    work run;
    after_commit after;
    std::chrono::steady_clock::time_point next{};
    std::chrono::steady_clock::time_point last_start{};
    bool wanted = false;  // run_soon asked for it
  };
  static net::awaitable<void> loop(periodic_jobs* self, std::shared_ptr<wakeable_loop> waker);

  boost::asio::io_context& ioc_;
  db::connection_pool& pool_;
  const clock& clk_;
  std::string holder_;
  std::vector<job> jobs_;
  std::shared_ptr<wakeable_loop> waker_;
};

}  // namespace derpmgr::controller::scheduler
