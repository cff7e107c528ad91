#include <cppconn/connection.h>
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "controller/audit/audit_routes.hpp"
#include "tests/integration/controller/audit/audit_fixture.hpp"
#include "tests/support/run_awaitable.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::controller;
using namespace derpmgr::controller::audit;

namespace {

// 25 rows a second apart from 2026-05-01T00:00:00Z: admins 1 and 2 alternate on users, every fifth row is the
// system expiring a rental, row 7 resets an admin's MFA.
void seed(audit_fixture& f) {
  for (int i = 1; i <= 25; ++i) {
    audit_entry e;
    if (i % 5 == 0) {
      e.actor_kind = audit_actor::system;
      e.action = "rental.expire";
      e.target = "rental:" + std::to_string(i);
    } else if (i == 7) {
      e.actor_kind = audit_actor::admin;
      e.actor_id = 1;
      e.action = "admin.mfa.reset";
      e.target = "admin:2";
    } else {
      e.actor_kind = audit_actor::admin;
      e.actor_id = i % 2 == 0 ? 2 : 1;
      e.action = "admin.user.update";
      e.target = "user:" + std::to_string(i % 3);
    }
    e.details = audit_details({{"step", i}, {"password", "never stored"}});
    f.append(e);
  }
}

audit_page list(audit_fixture& f, const audit_filter& filter, std::size_t limit, const std::string& cursor = {}) {
  audit_page page;
  f.pool.run_blocking([&](sql::Connection& conn) { page = audit_log{}.list(conn, filter, limit, cursor); }, false);
  return page;
}

std::vector<std::uint64_t> seqs(const audit_page& page) {
  std::vector<std::uint64_t> out;
  for (const auto& r : page.items) {
    out.push_back(r.seq);
  }
  return out;
}

http::request get(const std::string& query) {
  http::request req;
  req.method = "GET";
  req.path = "/api/v1/admin/audit-log";
  req.query = query;
  return req;
}

boost::json::object call(audit_fixture& f, const std::string& query) {
  auto res = run_awaitable(handle_audit_list(f.pool, get(query)));
  CHECK(res.status == 200);
  return boost::json::parse(res.body).as_object();
}

}  // namespace

TEST_CASE("audit list pages run newest first through every row exactly once") {
  audit_fixture f;
  seed(f);
  std::vector<std::uint64_t> all;
  std::string cursor;
  int pages = 0;
  for (;;) {
    auto page = list(f, {}, 10, cursor);
    ++pages;
    auto s = seqs(page);
    all.insert(all.end(), s.begin(), s.end());
    if (!page.next_cursor) {
      break;
    }
    cursor = *page.next_cursor;
  }
  CHECK(pages == 3);
  REQUIRE(all.size() == 25);
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i] == 25 - i);
  }
  // Exactly one page's worth: no empty page after it.
  CHECK_FALSE(list(f, {}, 25).next_cursor);
}

TEST_CASE("audit list filters narrow the list") {
  audit_fixture f;
  seed(f);

  audit_filter exact;
  exact.action = "admin.mfa.reset";
  CHECK(seqs(list(f, exact, 50)) == std::vector<std::uint64_t>{7});

  audit_filter prefix;
  prefix.action = "admin.";
  prefix.action_prefix = true;
  CHECK(list(f, prefix, 50).items.size() == 20);

  audit_filter wildcard_is_literal;
  wildcard_is_literal.action = "admin_";
  wildcard_is_literal.action_prefix = true;
  CHECK(list(f, wildcard_is_literal, 50).items.empty());

  audit_filter system;
  system.actor_kind = audit_actor::system;
  CHECK(seqs(list(f, system, 50)) == std::vector<std::uint64_t>{25, 20, 15, 10, 5});

  audit_filter admin2;
  admin2.actor_kind = audit_actor::admin;
  admin2.actor_id = 2;
  for (const auto& r : list(f, admin2, 50).items) {
    CHECK(r.actor_id == 2U);
    CHECK(r.seq % 2 == 0);
  }

  audit_filter target;
  target.target = "admin:2";
  CHECK(seqs(list(f, target, 50)) == std::vector<std::uint64_t>{7});

  // Row n was written at 00:00:(n-1): [from, to) covers rows 11..15.
  audit_filter window;
  window.from = f.clock.now() - std::chrono::seconds{25} + std::chrono::seconds{10};
  window.to = window.from.value() + std::chrono::seconds{5};
  CHECK(seqs(list(f, window, 50)) == std::vector<std::uint64_t>{15, 14, 13, 12, 11});

  // Filters and pages combine.
  auto first = list(f, system, 2);
  REQUIRE(first.next_cursor);
  auto second = list(f, system, 2, *first.next_cursor);
  CHECK(seqs(second) == std::vector<std::uint64_t>{15, 10});
}

TEST_CASE("the audit list handler answers JSON pages with RFC 3339 times and rejects bad queries") {
  audit_fixture f;
  seed(f);
  auto body = call(f, "limit=10&actor_kind=admin");
  const auto& items = body.at("items").as_array();
  REQUIRE(items.size() == 10);
  const auto& newest = items[0].as_object();
  CHECK(newest.at("seq") == 24);
  CHECK(newest.at("at") == "2026-05-01T00:00:23.000000Z");
  CHECK(newest.at("actor_kind") == "admin");
  CHECK(newest.at("actor_id") == 2);
  CHECK(newest.at("action") == "admin.user.update");
  CHECK(newest.at("details").as_object().at("step") == 24);
  CHECK_FALSE(newest.at("details").as_object().contains("password"));
  CHECK(newest.at("hash").as_string().size() == 64);

  std::set<std::int64_t> seen;
  std::string cursor = std::string(body.at("next_cursor").as_string());
  for (const auto& item : items) {
    seen.insert(item.as_object().at("seq").to_number<std::int64_t>());
  }
  auto second = call(f, "limit=10&actor_kind=admin&cursor=" + cursor);
  for (const auto& item : second.at("items").as_array()) {
    CHECK(seen.insert(item.as_object().at("seq").to_number<std::int64_t>()).second);
  }
  CHECK(second.at("next_cursor").is_null());
  CHECK(seen.size() == 20);

  auto system = call(f, "actor_kind=system&from=2026-05-01T08:00:10%2B08:00");
  CHECK(system.at("items").as_array().size() == 3);
  CHECK(system.at("items").as_array()[0].as_object().at("actor_id").is_null());

  try {
    run_awaitable(handle_audit_list(f.pool, get("limit=500")));
    FAIL("a limit of 500 was accepted");
  } catch (const http::api_error& e) {
    CHECK(e.status() == 400);
    CHECK(e.field() == "limit");
  }
}
