#include "controller/scheduler/periodic_jobs.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "controller/db/connection_pool.hpp"
#include "controller/scheduler/job_lease.hpp"
#include "shared/net/wakeable_loop.hpp"

namespace derpmgr::controller::scheduler {

namespace {
// The least time between two starts of one job when run_soon asks for it.
constexpr auto min_gap = std::chrono::milliseconds(200);
}  // namespace

periodic_jobs::periodic_jobs(boost::asio::io_context& ioc, db::connection_pool& pool, const clock& clk,
                             std::string holder)
    : ioc_(ioc), pool_(pool), clk_(clk), holder_(std::move(holder)), waker_(std::make_shared<wakeable_loop>(ioc)) {}

periodic_jobs::~periodic_jobs() { stop(); }

void periodic_jobs::add(std::string name, std::chrono::seconds every, work job_work, after_commit after) {
  jobs_.push_back(job{std::move(name), every, std::move(job_work), std::move(after)});
}

void periodic_jobs::start() {
  waker_->start();
  net::co_spawn(waker_->strand(), loop(this, waker_), net::detached);
}

void periodic_jobs::stop() { waker_->stop(); }

void periodic_jobs::run_soon(const std::string& name) {
  waker_->wake_with([this, name] {
    for (auto& j : jobs_) {
      if (j.name == name) {
        j.wanted = true;
      }
    }
  });
}

void periodic_jobs::run_all_now() {
  for (const auto& j : jobs_) {
    bool ran = false;
    auto now = clk_.now();
    auto holder = holder_;
    pool_.run_blocking(
        [&j, now, holder, &ran](sql::Connection& conn) {
          ran = take_lease(conn, j.name, holder, now, j.every * 2);
          if (ran) {
            j.run(conn, now);
          }
        },
        true);
    if (ran && j.after) {
      j.after();
    }
  }
}

net::awaitable<void> periodic_jobs::loop(periodic_jobs* self, std::shared_ptr<wakeable_loop> waker) {
  using std::chrono::steady_clock;
  while (waker->running()) {
    auto pause = steady_clock::duration(std::chrono::seconds(1));
    for (auto& j : self->jobs_) {
      if (!waker->running()) {
        break;
      }
      auto steady_now = steady_clock::now();
      bool due = steady_now >= j.next;
      if (!due && j.wanted) {
        // Asked for early, but not more often than min_gap: a burst of purchases is placed in a few runs.
        auto allowed = j.last_start + min_gap;
        due = steady_now >= allowed;
        if (!due) {
          pause = std::min(pause, allowed - steady_now);
        }
      }
      if (!due) {
        continue;
      }
      j.last_start = steady_now;
      j.next = steady_now + j.every;
      j.wanted = false;
      auto now = self->clk_.now();
      auto holder = self->holder_;
      auto name = j.name;
      auto ttl = j.every * 2;
      auto run = j.run;
      auto unit = [name, holder, now, ttl, run](sql::Connection& conn) {
        bool leased = take_lease(conn, name, holder, now, ttl);
        if (leased) {
          run(conn, now);
        }
        return leased;
      };
      try {
        bool ran = co_await self->pool_.transact(std::move(unit));
        if (ran && j.after) {
          j.after();
        }
      } catch (const std::exception& e) {
        spdlog::warn("job {}: {}", name, e.what());
      }
    }
    // At once when run_soon arrived while jobs ran.
    co_await waker->sleep(pause);
  }
}

}  // namespace derpmgr::controller::scheduler
