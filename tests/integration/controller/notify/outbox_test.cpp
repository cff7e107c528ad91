#include "controller/notify/outbox.hpp"

#include <doctest/doctest.h>

#include <set>

#include "tests/integration/controller/notify/outbox_fixture.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::controller::notify;
using namespace std::chrono_literals;

namespace {

const template_vars code_vars{{"code", "482913"}, {"minutes", "15"}};

// Marker thrown to roll a transaction back.
struct rollback {};

}  // namespace

TEST_CASE("an email enqueued in a transaction that rolls back does not exist") {
  outbox_fixture f;
  auto recipient = unique_recipient("rolled");
  CHECK_THROWS_AS(f.pool->run_blocking(
                      [&](sql::Connection& c) {
                        f.box.enqueue(c, recipient, "verify_email", "en", code_vars, f.clk->now());
                        throw rollback{};
                      },
                      true),
                  rollback);
  CHECK(f.db.scalar("SELECT COUNT(*) FROM email_outbox") == "0");

  auto id = f.enqueue(recipient, "verify_email", "zh_CN", code_vars);
  CHECK(f.db.scalar("SELECT COUNT(*) FROM email_outbox") == "1");
  std::optional<outbox_entry> entry;
  f.pool->run_blocking([&](sql::Connection& c) { entry = f.box.find(c, id); }, false);
  REQUIRE(entry);
  CHECK(entry->recipient == recipient);
  CHECK(entry->template_name == "verify_email");
  CHECK(entry->locale == "zh-CN");
  CHECK(entry->subject == "derpmgr 邮箱验证码");
  CHECK(entry->status == outbox_status::pending);
  CHECK(entry->attempts == 0);
  CHECK(entry->created_at == outbox_test_epoch());
  CHECK(entry->next_attempt_at == outbox_test_epoch());
  CHECK_FALSE(entry->claimed_until);
  CHECK_FALSE(entry->sent_at);
  CHECK(entry->last_error.empty());
  CHECK(f.column(id, "body_text").find("482913") != std::string::npos);
}

TEST_CASE("enqueue refuses unknown templates, missing values and bad recipients") {
  outbox_fixture f;
  auto attempt = [&](const std::string& recipient, const std::string& name, const template_vars& vars) {
    f.pool->run_blocking([&](sql::Connection& c) { f.box.enqueue(c, recipient, name, "en", vars, f.clk->now()); },
                         true);
  };
  CHECK_THROWS_AS(attempt("a@derpmgr.test", "no_such_template", {}), template_error);
  CHECK_THROWS_AS(attempt("a@derpmgr.test", "verify_email", {{"code", "1"}}), template_error);
  CHECK_THROWS_AS(attempt("not-an-address", "password_changed", {}), invalid_recipient);
  CHECK_THROWS_AS(attempt("a@derpmgr.test>\r\nRCPT TO:<b@x", "password_changed", {}), invalid_recipient);
  CHECK(f.db.scalar("SELECT COUNT(*) FROM email_outbox") == "0");
}

TEST_CASE("admins list the outbox newest first, filtered, a page at a time") {
  outbox_fixture f;
  auto alice = unique_recipient("alice");
  auto bob = unique_recipient("bob");
  std::vector<std::uint64_t> alice_ids;
  for (int i = 0; i < 5; ++i) {
    alice_ids.push_back(f.enqueue(alice, "password_changed", "en", {}));
    f.clk->advance(1s);
  }
  auto bob_id = f.enqueue(bob, "account_deleted", "zh-CN", {});

  auto list = [&](outbox_filter filter) {
    outbox_page page;
    f.pool->run_blocking([&](sql::Connection& c) { page = f.box.list(c, filter); }, false);
    return page;
  };

  auto all = list({});
  REQUIRE(all.items.size() == 6);
  CHECK(all.items.front().id == bob_id);
  CHECK(all.next_cursor.empty());

  outbox_filter by_alice;
  by_alice.recipient = alice;
  by_alice.limit = 2;
  std::vector<std::uint64_t> seen;
  std::set<std::string> cursors;
  auto page = list(by_alice);
  for (int guard = 0; guard < 10; ++guard) {
    for (const auto& e : page.items) {
      CHECK(e.recipient == alice);
      seen.push_back(e.id);
    }
    if (page.next_cursor.empty()) {
      break;
    }
    CHECK(cursors.insert(page.next_cursor).second);
    by_alice.cursor = page.next_cursor;
    page = list(by_alice);
  }
  CHECK(seen == std::vector<std::uint64_t>(alice_ids.rbegin(), alice_ids.rend()));
  CHECK(cursors.size() == 2);

  outbox_filter sent_only;
  sent_only.status = outbox_status::sent;
  CHECK(list(sent_only).items.empty());
  outbox_filter pending_only;
  pending_only.status = outbox_status::pending;
  CHECK(list(pending_only).items.size() == 6);

  outbox_filter bad;
  bad.cursor = "zz";
  CHECK_THROWS_AS(list(bad), invalid_cursor);
  bad.cursor = "6f78";
  CHECK_THROWS_AS(list(bad), invalid_cursor);
}

TEST_CASE("claims are exclusive, run out, and only their holder settles them") {
  outbox_fixture f;
  auto recipient = unique_recipient("claim");
  auto id = f.enqueue(recipient, "verify_email", "en", code_vars);
  auto claim = [&] {
    outbox_claim c;
    f.pool->run_blocking([&](sql::Connection& conn) { c = f.box.claim_due(conn, f.clk->now(), 10, 60s); }, true);
    return c;
  };
  auto first = claim();
  REQUIRE(first.messages.size() == 1);
  CHECK(first.messages[0].id == id);
  CHECK(first.messages[0].recipient == recipient);
  CHECK(first.messages[0].body_text.find("482913") != std::string::npos);
  CHECK(first.messages[0].attempts == 0);
  CHECK(f.column(id, "status") == "sending");
  CHECK(claim().messages.empty());

  // The holder died: once the claim runs out another worker takes the message over, and the old token is void.
  f.clk->advance(61s);
  auto second = claim();
  REQUIRE(second.messages.size() == 1);
  CHECK(second.token != first.token);
  bool ok = true;
  f.pool->run_blocking([&](sql::Connection& c) { ok = f.box.mark_sent(c, id, first.token, f.clk->now()); }, false);
  CHECK_FALSE(ok);

  auto retry_at = f.clk->now() + 30s;
  f.pool->run_blocking([&](sql::Connection& c) { ok = f.box.mark_failed(c, id, second.token, "SMTP down", retry_at); },
                       false);
  CHECK(ok);
  CHECK(f.column(id, "status") == "pending");
  CHECK(f.column(id, "attempts") == "1");
  CHECK(f.column(id, "last_error") == "SMTP down");
  CHECK(f.column(id, "claimed_until") == "");
  CHECK(claim().messages.empty());

  f.clk->advance(30s);
  auto third = claim();
  REQUIRE(third.messages.size() == 1);
  CHECK(third.messages[0].attempts == 1);
  f.pool->run_blocking(
      [&](sql::Connection& c) { ok = f.box.mark_failed(c, id, third.token, std::string(2000, 'e'), std::nullopt); },
      false);
  CHECK(f.column(id, "status") == "failed");
  CHECK(f.column(id, "attempts") == "2");
  CHECK(f.column(id, "last_error").size() == 512);

  resend_result r{};
  f.clk->advance(1h);
  f.pool->run_blocking([&](sql::Connection& c) { r = f.box.resend(c, id, f.clk->now()); }, false);
  CHECK(r == resend_result::queued);
  CHECK(f.column(id, "status") == "pending");
  CHECK(f.column(id, "attempts") == "0");
  CHECK(f.column(id, "next_attempt_at") == format_sql_datetime(f.clk->now()));
  f.pool->run_blocking([&](sql::Connection& c) { r = f.box.resend(c, id, f.clk->now()); }, false);
  CHECK(r == resend_result::not_resendable);
  f.pool->run_blocking([&](sql::Connection& c) { r = f.box.resend(c, id + 1000, f.clk->now()); }, false);
  CHECK(r == resend_result::not_found);

  auto fourth = claim();
  REQUIRE(fourth.messages.size() == 1);
  f.pool->run_blocking([&](sql::Connection& c) { ok = f.box.mark_sent(c, id, fourth.token, f.clk->now()); }, false);
  CHECK(ok);
  CHECK(f.column(id, "status") == "sent");
  CHECK(f.column(id, "sent_at") == format_sql_datetime(f.clk->now()));
  f.pool->run_blocking([&](sql::Connection& c) { r = f.box.resend(c, id, f.clk->now()); }, false);
  CHECK(r == resend_result::queued);
  CHECK(f.column(id, "sent_at") == "");
}

TEST_CASE("a released claim is due again at once without counting an attempt") {
  outbox_fixture f;
  auto id = f.enqueue(unique_recipient("release"), "password_changed", "en", {});
  outbox_claim c;
  f.pool->run_blocking([&](sql::Connection& conn) { c = f.box.claim_due(conn, f.clk->now(), 10, 60s); }, true);
  REQUIRE(c.messages.size() == 1);
  bool ok = false;
  f.pool->run_blocking([&](sql::Connection& conn) { ok = f.box.release(conn, id, c.token); }, false);
  CHECK(ok);
  CHECK(f.column(id, "status") == "pending");
  CHECK(f.column(id, "attempts") == "0");
  f.pool->run_blocking([&](sql::Connection& conn) { c = f.box.claim_due(conn, f.clk->now(), 10, 60s); }, true);
  CHECK(c.messages.size() == 1);
}
