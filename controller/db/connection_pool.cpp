#include "controller/db/connection_pool.hpp"

#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>
#include <spdlog/spdlog.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "controller/db/sql_errors.hpp"

namespace derpmgr::controller::db {

namespace {

sql::Driver* driver() {
  static std::mutex mutex;
  static sql::Driver* instance = nullptr;
  std::lock_guard lock(mutex);
  if (instance == nullptr) {
    instance = get_driver_instance();
  }
  return instance;
}

// A connection unused for this long is pinged before it is handed out again.
constexpr auto stale_after = std::chrono::seconds(5);

}  // namespace

connection_pool::connection_pool(database_settings settings, options opts)
    : settings_(std::move(settings)), options_(opts) {
  driver();
  for (std::size_t i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { worker_main(); });
  }
}

connection_pool::~connection_pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
  for (auto& j : queue_) {
    j.done(std::make_exception_ptr(database_unavailable("database pool stopped")));
  }
}

pool_stats connection_pool::stats() const {
  std::lock_guard lock(mutex_);
  return pool_stats{threads_.size(), busy_, queue_.size(), connected_};
}

void connection_pool::submit(job j) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      j.done(std::make_exception_ptr(database_unavailable("database pool stopped")));
      return;
    }
    queue_.push_back(std::move(j));
  }
  cv_.notify_one();
}

net::awaitable<void> connection_pool::execute(const std::shared_ptr<job_base>* work, bool transactional) {
  auto initiate = [this, work, transactional](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    auto keep = *work;
    connection_pool::job j;
    j.work = [keep](sql::Connection& conn) { keep->run(conn); };
    j.transactional = transactional;
    j.done = [shared](std::exception_ptr ep) {
      auto executor = net::get_associated_executor(*shared);
      net::post(executor, [shared, ep]() mutable { std::move (*shared)(ep); });
    };
    submit(std::move(j));
  };
  co_await net::async_initiate<decltype(net::use_awaitable), void(std::exception_ptr)>(initiate,
                                                                                        net::use_awaitable);
}

void connection_pool::run_blocking(const std::function<void(sql::Connection&)>& work, bool transactional) {
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  std::exception_ptr error;
  job j;
  j.work = work;
  j.transactional = transactional;
  j.done = [&](std::exception_ptr ep) {
    std::lock_guard lock(m);
    error = ep;
    finished = true;
    cv.notify_one();
  };
  submit(std::move(j));
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return finished; });
  if (error) {
    std::rethrow_exception(error);
  }
}

std::unique_ptr<sql::Connection> connection_pool::connect() {
  sql::ConnectOptionsMap opts;
  if (!settings_.socket.empty()) {
    opts["hostName"] = sql::SQLString("localhost");
    opts["socket"] = sql::SQLString(settings_.socket);
  } else {
    opts["hostName"] = sql::SQLString("tcp://" + settings_.host + ":" + std::to_string(settings_.port));
  }
  opts["userName"] = sql::SQLString(settings_.user);
  opts["password"] = sql::SQLString(settings_.password);
  opts["schema"] = sql::SQLString(settings_.schema);
  opts["OPT_CONNECT_TIMEOUT"] = static_cast<int>(options_.connect_timeout.count());
  opts["OPT_READ_TIMEOUT"] = static_cast<int>(options_.read_timeout.count());
  opts["OPT_WRITE_TIMEOUT"] = static_cast<int>(options_.read_timeout.count());
  opts["OPT_RECONNECT"] = false;
  opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  std::unique_ptr<sql::Connection> conn(driver()->connect(opts));
  std::unique_ptr<sql::Statement> st(conn->createStatement());
  st->execute("SET time_zone = '+00:00'");
  st->execute(
      "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
      "NO_ENGINE_SUBSTITUTION'");
  st->execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  return conn;
}

std::exception_ptr connection_pool::run_job(std::unique_ptr<sql::Connection>& conn,
                                            std::chrono::steady_clock::time_point& last_used, job& j) {
  auto drop = [&] {
    conn.reset();
    std::lock_guard lock(mutex_);
    --connected_;
  };
  for (int attempt = 0;; ++attempt) {
    try {
      if (conn && std::chrono::steady_clock::now() - last_used > stale_after && !conn->isValid()) {
        drop();
      }
      if (!conn) {
        conn = connect();
        std::lock_guard lock(mutex_);
        ++connected_;
      }
      last_used = std::chrono::steady_clock::now();
      conn->setAutoCommit(!j.transactional);
      try {
        j.work(*conn);
        if (j.transactional) {
          conn->commit();
        }
      } catch (...) {
        if (j.transactional && conn) {
          try {
            conn->rollback();
          } catch (const sql::SQLException&) {
            drop();
          }
        }
        throw;
      }
      last_used = std::chrono::steady_clock::now();
      return nullptr;
    } catch (const sql::SQLException& e) {
      int code = e.getErrorCode();
      if (is_connection_error(code)) {
        if (conn) {
          drop();
        }
        return std::make_exception_ptr(database_unavailable("database unavailable: " + std::string(e.what())));
      }
      if (is_retryable(code) && j.transactional && attempt < options_.deadlock_retries) {
        spdlog::debug("database: transaction retried after error {}", code);
        continue;
      }
      return std::current_exception();
    } catch (...) {
      return std::current_exception();
    }
  }
}

void connection_pool::worker_main() {
  driver()->threadInit();
  std::unique_ptr<sql::Connection> conn;
  auto last_used = std::chrono::steady_clock::now();
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        break;
      }
      j = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    auto error = run_job(conn, last_used, j);
    {
      std::lock_guard lock(mutex_);
      --busy_;
    }
    j.done(error);
  }
  if (conn) {
    conn.reset();
    std::lock_guard lock(mutex_);
    --connected_;
  }
  driver()->threadEnd();
}

}  // namespace derpmgr::controller::db
