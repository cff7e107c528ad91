#include "controller/scheduler/periodic_jobs.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "controller/db/connection_pool.hpp"
#include "controller/scheduler/job_lease.hpp"

namespace derpmgr::controller::scheduler {

periodic_jobs::periodic_jobs(boost::asio::io_context& ioc, db::connection_pool& pool, const clock& clk,
                             std::string holder)
    : ioc_(ioc), pool_(pool), clk_(clk), holder_(std::move(holder)) {}

periodic_jobs::~periodic_jobs() { stop(); }

void periodic_jobs::add(std::string name, std::chrono::seconds every, work job_work) {
  jobs_.push_back(job{std::move(name), every, std::move(job_work)});
}

void periodic_jobs::start() {
  *running_ = true;
  net::co_spawn(ioc_, loop(this, running_), net::detached);
}

void periodic_jobs::stop() { *running_ = false; }

void periodic_jobs::run_all_now() {
  for (const auto& j : jobs_) {
    auto now = clk_.now();
    auto holder = holder_;
    pool_.run_blocking(
        [&j, now, holder](sql::Connection& conn) {
          if (take_lease(conn, j.name, holder, now, j.every * 2)) {
            j.run(conn, now);
          }
        },
        true);
  }
}

net::awaitable<void> periodic_jobs::loop(periodic_jobs* self, std::shared_ptr<bool> running) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (*running) {
    for (auto& j : self->jobs_) {
      if (!*running) {
        break;
      }
      auto steady_now = std::chrono::steady_clock::now();
      if (steady_now < j.next) {
        continue;
      }
      j.next = steady_now + j.every;
      auto now = self->clk_.now();
      auto holder = self->holder_;
      auto name = j.name;
      auto ttl = j.every * 2;
      auto run = j.run;
      auto unit = [name, holder, now, ttl, run](sql::Connection& conn) {
        if (take_lease(conn, name, holder, now, ttl)) {
          run(conn, now);
        }
      };
      try {
        co_await self->pool_.transact(std::move(unit));
      } catch (const std::exception& e) {
        spdlog::warn("job {}: {}", name, e.what());
      }
    }
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  }
}

}  // namespace derpmgr::controller::scheduler
