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
  // (Not a coroutine itself: g++ 12 copies class-type temporaries that live across a co_await bit by bit, so the
  // closure moves into a heap job here and only a raw pointer crosses into the coroutine.)
  template <class F>
  auto run(F work) -> net::awaitable<std::invoke_result_t<F&, sql::Connection&>> {
    return await_job(this, make_job(std::move(work)), false);
  }

  // Runs `work(conn)` inside a transaction: commit on return, rollback on exception, the whole closure retried
  // on deadlock (1213) or lock-wait timeout (1205).
  template <class F>
  auto transact(F work) -> net::awaitable<std::invoke_result_t<F&, sql::Connection&>> {
    return await_job(this, make_job(std::move(work)), true);
  }

  // Blocking variant for command-line tools that run no io_context.
  void run_blocking(const std::function<void(sql::Connection&)>& work, bool transactional);

  pool_stats stats() const;
  const database_settings& settings() const { return settings_; }

 private:
  // A unit of work, run on a pool thread.
  struct job_base {
    virtual ~job_base() = default;
    virtual void run(sql::Connection& conn) = 0;
  };

  // A unit of work and the place its result lands.
  template <class R>
  struct result_job : job_base {
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
  };

  template <class F, class R>
  struct typed_job final : result_job<R> {
    explicit typed_job(F f) : work(std::move(f)) {}
    void run(sql::Connection& conn) override {
      if constexpr (std::is_void_v<R>) {
        work(conn);
        this->result.emplace(true);
      } else {
        this->result.emplace(work(conn));
      }
    }
    F work;
  };

  // A heap job whose ownership the caller passes on (raw, so no class-type temporary spans a co_await).
  template <class F>
  static auto make_job(F work) {
    using result_t = std::invoke_result_t<F&, sql::Connection&>;
    return static_cast<result_job<result_t>*>(new typed_job<F, result_t>(std::move(work)));
  }

  template <class R>
  static net::awaitable<R> await_job(connection_pool* pool, result_job<R>* raw, bool transactional) {
    std::shared_ptr<job_base> job(raw);  // shared with the pool thread, which may outlive this frame
    co_await pool->execute(&job, transactional);
    if constexpr (!std::is_void_v<R>) {
      // Moved into a frame local first: g++ 12 destroys the parameters before a co_return operand that refers
      // into them has been consumed.
      R out = std::move(*raw->result);
      co_return out;
    }
  }

  struct job {
    std::function<void(sql::Connection&)> work;
    bool transactional = false;
    std::function<void(std::exception_ptr)> done;
  };

  // Runs *job on a pool thread and resumes the caller when it is done; the pool keeps its own reference.
  net::awaitable<void> execute(const std::shared_ptr<job_base>* work, bool transactional);
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
