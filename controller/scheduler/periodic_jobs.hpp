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

  periodic_jobs(boost::asio::io_context& ioc, db::connection_pool& pool, const clock& clk, std::string holder);
  ~periodic_jobs();

  void add(std::string name, std::chrono::seconds every, work job);
  void start();
  void stop();
  // Runs each job once now, blocking (tests and the CLI).
  void run_all_now();

 private:
  struct job {
    std::string name;
    std::chrono::seconds every;
    work run;
    std::chrono::steady_clock::time_point next{};
  };
  static net::awaitable<void> loop(periodic_jobs* self, std::shared_ptr<bool> running);

  boost::asio::io_context& ioc_;
  db::connection_pool& pool_;
  const clock& clk_;
  std::string holder_;
  std::vector<job> jobs_;
  std::shared_ptr<bool> running_ = std::make_shared<bool>(false);
};

}  // namespace derpmgr::controller::scheduler
