#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/db/connection_pool.hpp"
#include "controller/db/database_url.hpp"
#include "controller/db/migrations.hpp"
#include "shared/clock/clock.hpp"
#include "tests/support/test_database.hpp"

namespace derpmgr::test {

// For tests of one controller component that runs loops on an io_context: a migrated schema of its own, a manual
// clock at 2030-01-01, a pool of two connections and an io_context on two threads (so strands matter). `subject`,
// made by the test, is destroyed only after the destructor has stopped the io threads, so its loops never run on a
// destroyed object, also when an assertion ends the test early.
template <typename Subject>
struct schema_with_io {
  test_database db;
  manual_clock clk{time_point{std::chrono::sys_days{std::chrono::year{2030} / 1 / 1}.time_since_epoch()}};
  std::unique_ptr<controller::db::connection_pool> pool;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
  std::vector<std::thread> threads;
  std::unique_ptr<Subject> subject;

  explicit schema_with_io(const std::string& prefix) : db(prefix) {
    controller::db::connection_pool::options opts;
    opts.threads = 2;
    pool = std::make_unique<controller::db::connection_pool>(controller::db::database_settings::parse(db.url()), opts);
    controller::db::migrator(*pool, clk, controller::db::load_migrations(controller::db::embedded_migration_files()),
                             "test")
        .migrate();
  }
  ~schema_with_io() {
    work.reset();
    ioc.stop();
    for (auto& t : threads) {
      t.join();
    }
  }
  schema_with_io(const schema_with_io&) = delete;
  schema_with_io& operator=(const schema_with_io&) = delete;

  // Starts the io threads (after the test has made `subject`).
  void run_io() {
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([this] { ioc.run(); });
    }
  }
};

}  // namespace derpmgr::test
