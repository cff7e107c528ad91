#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "controller/db/database_url.hpp"
#include "shared/net/net.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::db {

// The database could not be reached, or a connection broke mid-work.
class database_unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Counts for the metrics endpoint.
struct pool_stats {
  std::size_t threads = 0;
  std::size_t busy = 0;
  std::size_t queued = 0;
  std::size_t connected = 0;
};

// A fixed set of threads, each owning one MySQL connection; a unit of work is one closure run on one connection
// (a whole transaction, never split across co_awaits), awaited from coroutines.
class connection_pool {
 public:
  struct options {
    std::size_t threads = 4;
    std::chrono::seconds connect_timeout{5};
    std::chrono::seconds read_timeout{30};
    int deadlock_retries = 5;
  };

  connection_pool(database_settings settings, options opts);
  ~connection_pool();
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  // Runs `work(conn)` in autocommit mode; returns its result or rethrows its exception.
  template <class F>
  auto run(F work) -> net::awaitable<std::invoke_result_t<F&, sql::Connection&>> {
    co_return co_await run_wrapped<F>(std::move(work), false);
  }

  // Runs `work(conn)` inside a transaction: commit on return, rollback on exception, the whole closure retried
  // on deadlock (1213) or lock-wait timeout (1205).
  template <class F>
  auto transact(F work) -> net::awaitable<std::invoke_result_t<F&, sql::Connection&>> {
    co_return co_await run_wrapped<F>(std::move(work), true);
  }

  // Blocking variant for command-line tools that run no io_context.
  void run_blocking(const std::function<void(sql::Connection&)>& work, bool transactional);

  pool_stats stats() const;
  const database_settings& settings() const { return settings_; }

 private:
  template <class F>
  auto run_wrapped(F work, bool transactional) -> net::awaitable<std::invoke_result_t<F&, sql::Connection&>> {
    using result_t = std::invoke_result_t<F&, sql::Connection&>;
    if constexpr (std::is_void_v<result_t>) {
      co_await execute([&work](sql::Connection& c) { work(c); }, transactional);
    } else {
      std::optional<result_t> result;
      co_await execute([&work, &result](sql::Connection& c) { result.emplace(work(c)); }, transactional);
      co_return std::move(*result);
    }
  }

  struct job {
    std::function<void(sql::Connection&)> work;
    bool transactional = false;
    std::function<void(std::exception_ptr)> done;
  };

  net::awaitable<void> execute(std::function<void(sql::Connection&)> work, bool transactional);
  void submit(job j);
  void worker_main();
  std::exception_ptr run_job(std::unique_ptr<sql::Connection>& conn,
                             std::chrono::steady_clock::time_point& last_used, job& j);
  std::unique_ptr<sql::Connection> connect();

  database_settings settings_;
  options options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::size_t busy_ = 0;
  std::size_t connected_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace derpmgr::controller::db
