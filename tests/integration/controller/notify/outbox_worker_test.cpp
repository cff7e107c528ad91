#include "controller/notify/outbox_worker.hpp"

#include <doctest/doctest.h>

#include "tests/integration/controller/notify/outbox_fixture.hpp"
#include "tests/integration/controller/notify/sink_mail.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::controller::notify;
using namespace std::chrono_literals;

namespace {

outbox_worker::options quick_options() {
  outbox_worker::options opts;
  opts.poll_interval = 100ms;
  opts.batch_size = 3;
  return opts;
}

// Marker thrown to roll a transaction back.
struct rollback {};

}  // namespace

TEST_CASE("a committed email reaches the SMTP sink; one whose transaction rolled back never does") {
  outbox_fixture f;
  auto kept = unique_recipient("kept");
  auto dropped = unique_recipient("dropped");
  CHECK_THROWS_AS(
      f.pool->run_blocking(
          [&](sql::Connection& c) {
            f.box.enqueue(c, dropped, "verify_email", "en", {{"code", "111111"}, {"minutes", "15"}}, f.clk->now());
            throw rollback{};
          },
          true),
      rollback);
  auto id = f.enqueue(kept, "verify_email", "zh-CN", {{"code", "482913"}, {"minutes", "15"}});

  outbox_worker worker(f.ioc, *f.pool, f.mailer(), f.clk, quick_options());
  worker.start();
  REQUIRE(eventually([&] { return f.column(id, "status") == "sent"; }));
  worker.stop();

  auto mails = sink_mails_to(f.env.mail_dir, kept);
  REQUIRE(mails.size() == 1);
  const auto& m = mails[0];
  CHECK(m.header("x-sink-mail-from") == "noreply@derpmgr.test");
  CHECK(m.header("from") == "derpmgr <noreply@derpmgr.test>");
  CHECK(m.header("to") == "<" + kept + ">");
  CHECK(m.header("mime-version") == "1.0");
  CHECK(m.header("content-type") == "text/plain; charset=utf-8");
  CHECK(m.header("date") == "Tue, 01 Jan 2030 00:00:00 +0000");
  CHECK(m.header("message-id").find("@derpmgr.test>") != std::string::npos);
  CHECK(m.subject == "derpmgr 邮箱验证码");
  CHECK(m.text.find("482913") != std::string::npos);
  CHECK(m.text.find("验证码 15 分钟内有效。") != std::string::npos);
  CHECK(sink_mails_to(f.env.mail_dir, dropped).empty());
  CHECK(f.db.scalar("SELECT COUNT(*) FROM email_outbox") == "1");
  CHECK(f.column(id, "attempts") == "1");
  CHECK(f.column(id, "sent_at") == format_sql_datetime(outbox_test_epoch()));
  CHECK(worker.stats().sent == 1);
}

TEST_CASE("the outbox survives a controller restart with the SMTP sink down and delivers when it is back") {
  outbox_fixture f;
  auto recipient = unique_recipient("restart");
  auto id = f.enqueue(recipient, "password_reset", "en",
                      {{"link", "https://derp.example/reset#t=0123456789abcdef"}, {"minutes", "30"}});
  {
    // Controller 1: its SMTP server is down (nothing listens on the port).
    auto down_port = closed_port();
    outbox_worker first(f.ioc, *f.pool, f.mailer(down_port), f.clk, quick_options());
    first.start();
    REQUIRE(eventually([&] { return f.column(id, "attempts") == "1"; }));
    // With business time standing still, the backoff holds further attempts back.
    std::this_thread::sleep_for(500ms);
    first.stop();
    CHECK(first.stats().failed_attempts == 1);
    CHECK(f.column(id, "status") == "pending");
    CHECK(f.column(id, "attempts") == "1");
    auto error = f.column(id, "last_error");
    CHECK(error.find("smtp://127.0.0.1:" + std::to_string(down_port)) != std::string::npos);
    auto next = parse_sql_datetime(f.column(id, "next_attempt_at"));
    CHECK(next >= f.clk->now() + 15s);
    CHECK(next <= f.clk->now() + 30s);
  }
  CHECK(sink_mails_to(f.env.mail_dir, recipient).empty());

  // Controller 2, a fresh process with the sink reachable, once the backoff has passed.
  auto second_pool = f.make_pool();
  f.clk->advance(1h);
  outbox_worker second(f.ioc, *second_pool, f.mailer(), f.clk, quick_options());
  second.start();
  REQUIRE(eventually([&] { return f.column(id, "status") == "sent"; }));
  second.stop();
  CHECK(f.column(id, "attempts") == "2");
  auto mails = sink_mails_to(f.env.mail_dir, recipient);
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].subject == "Reset your derpmgr password");
  CHECK(mails[0].header("content-transfer-encoding") == "7bit");
  CHECK(mails[0].text.find("\r\nhttps://derp.example/reset#t=0123456789abcdef\r\n") != std::string::npos);
}

TEST_CASE("two workers on one schema deliver every message exactly once") {
  outbox_fixture f;
  auto prefix = unique_name("pair");
  std::vector<std::string> recipients;
  for (int i = 0; i < 20; ++i) {
    recipients.push_back(prefix + "-" + std::to_string(i) + "@derpmgr.test");
    f.enqueue(recipients.back(), "password_changed", i % 2 == 0 ? "en" : "zh-CN", {});
  }
  auto other_pool = f.make_pool();
  outbox_worker a(f.ioc, *f.pool, f.mailer(), f.clk, quick_options());
  outbox_worker b(f.ioc, *other_pool, f.mailer(), f.clk, quick_options());
  a.start();
  b.start();
  REQUIRE(eventually([&] { return f.db.scalar("SELECT COUNT(*) FROM email_outbox WHERE status = 'sent'") == "20"; }));
  // Give a double delivery, if there were one, time to show.
  std::this_thread::sleep_for(300ms);
  a.stop();
  b.stop();
  CHECK(a.stats().sent + b.stats().sent == 20);
  CHECK(f.db.scalar("SELECT COUNT(*) FROM email_outbox WHERE attempts <> 1") == "0");
  for (const auto& r : recipients) {
    CHECK_MESSAGE(sink_mails_to(f.env.mail_dir, r).size() == 1, r);
  }
}

TEST_CASE("wake sends a fresh message without waiting for the next poll") {
  outbox_fixture f;
  auto opts = quick_options();
  opts.poll_interval = 1h;
  outbox_worker worker(f.ioc, *f.pool, f.mailer(), f.clk, opts);
  worker.start();
  // The first round finds nothing; then the loop sleeps for an hour unless woken.
  std::this_thread::sleep_for(300ms);
  auto id = f.enqueue(unique_recipient("wake"), "account_deleted", "en", {});
  worker.wake();
  CHECK(eventually([&] { return f.column(id, "status") == "sent"; }, 10s));
  worker.stop();
}

TEST_CASE("a message that keeps failing is given up after the last attempt") {
  outbox_fixture f;
  auto opts = quick_options();
  opts.retry.max_attempts = 3;
  auto id = f.enqueue(unique_recipient("doomed"), "password_changed", "en", {});
  outbox_worker worker(f.ioc, *f.pool, f.mailer(closed_port()), f.clk, opts);
  worker.start();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    REQUIRE(eventually([&] { return f.column(id, "attempts") == std::to_string(attempt); }));
    f.clk->advance(1h);
  }
  REQUIRE(eventually([&] { return f.column(id, "status") == "failed"; }));
  worker.stop();
  CHECK(f.column(id, "attempts") == "3");
  CHECK_FALSE(f.column(id, "last_error").empty());
}

TEST_CASE("stopping a worker that never started, or twice, is harmless") {
  outbox_fixture f;
  outbox_worker idle(f.ioc, *f.pool, f.mailer(), f.clk);
  idle.wake();
  idle.stop();
  idle.stop();
}
