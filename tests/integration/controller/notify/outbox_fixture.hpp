#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <thread>

#include "controller/db/connection_pool.hpp"
#include "controller/db/database_url.hpp"
#include "controller/db/migrations.hpp"
#include "controller/notify/outbox.hpp"
#include "controller/notify/smtp_mailer.hpp"
#include "shared/clock/clock.hpp"
#include "tests/support/test_database.hpp"

namespace derpmgr::test {

// 2030-01-01 00:00:00 UTC: where the outbox tests' manual clock starts.
inline time_point outbox_test_epoch() {
  return time_point{std::chrono::sys_days{std::chrono::year{2030} / 1 / 1}.time_since_epoch()};
}

// A migrated schema of its own, a manual clock and an io_context running on one thread, for outbox tests.
struct outbox_fixture {
  test_database db{"outbox"};
  services env = services::from_env();
  std::shared_ptr<manual_clock> clk = std::make_shared<manual_clock>(outbox_test_epoch());
  std::unique_ptr<controller::db::connection_pool> pool = make_pool();
  controller::notify::outbox box;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
  std::thread io_thread;

  outbox_fixture() {
    controller::db::migrator(*pool, *clk, controller::db::load_migrations(controller::db::embedded_migration_files()),
                             "test")
        .migrate();
    io_thread = std::thread([this] { ioc.run(); });
  }
  ~outbox_fixture() {
    work.reset();
    ioc.stop();
    io_thread.join();
  }
  outbox_fixture(const outbox_fixture&) = delete;
  outbox_fixture& operator=(const outbox_fixture&) = delete;

  // Another pool on the same schema, as a second controller replica would have.
  std::unique_ptr<controller::db::connection_pool> make_pool() const {
    controller::db::connection_pool::options opts;
    opts.threads = 2;
    return std::make_unique<controller::db::connection_pool>(controller::db::database_settings::parse(db.url()), opts);
  }

  // A mailer for the real SMTP sink, or for `port` on localhost.
  std::shared_ptr<controller::notify::smtp_mailer> mailer(int port = 0) const {
    auto settings = controller::notify::smtp_settings::parse(
        "smtp://" + env.smtp_host + ":" + std::to_string(port == 0 ? env.smtp_port : port),
        "derpmgr <noreply@derpmgr.test>");
    settings.connect_timeout = std::chrono::milliseconds(2000);
    settings.timeout = std::chrono::milliseconds(10000);
    return std::make_shared<controller::notify::smtp_mailer>(settings, clk);
  }

  // Enqueues one message in its own committed transaction; returns its id.
  std::uint64_t enqueue(const std::string& recipient, const std::string& template_name, const std::string& locale,
                        const controller::notify::template_vars& vars) {
    std::uint64_t id = 0;
    pool->run_blocking(
        [&](sql::Connection& c) { id = box.enqueue(c, recipient, template_name, locale, vars, clk->now()); }, true);
    return id;
  }

  std::string column(std::uint64_t id, const std::string& name) const {
    return db.scalar("SELECT " + name + " FROM email_outbox WHERE id = " + std::to_string(id));
  }
};

// A localhost TCP port nobody listens on: bound to port 0, read back, closed.
inline int closed_port() {
  net::io_context io;
  net::ip::tcp::acceptor acceptor(io, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  int port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

// A recipient address no other test uses.
inline std::string unique_recipient(const std::string& prefix) {
  return unique_name(prefix) + "@derpmgr.test";
}

}  // namespace derpmgr::test
