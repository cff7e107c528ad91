#include "controller/audit/audit_routes.hpp"

#include <doctest/doctest.h>

using namespace derpmgr;
using namespace derpmgr::controller;
using namespace derpmgr::controller::audit;

namespace {

http::request with_query(std::string query) {
  http::request req;
  req.method = "GET";
  req.path = "/api/v1/admin/audit-log";
  req.query = std::move(query);
  return req;
}

// The field a 400 names for `query`, or "" when it parses.
std::string rejected_field(const std::string& query) {
  try {
    parse_audit_list_query(with_query(query));
  } catch (const http::api_error& e) {
    CHECK(e.status() == 400);
    return e.field().empty() ? "(none)" : e.field();
  }
  return "";
}

}  // namespace

TEST_CASE("an empty audit list query asks for the newest 50 rows unfiltered") {
  auto q = parse_audit_list_query(with_query(""));
  CHECK(q.limit == 50);
  CHECK(q.cursor.empty());
  CHECK_FALSE(q.filter.action);
  CHECK_FALSE(q.filter.actor_kind);
  CHECK_FALSE(q.filter.from);
}

TEST_CASE("every audit list filter is parsed") {
  auto q =
      parse_audit_list_query(with_query("limit=10&action=admin.mfa.*&actor_kind=admin&actor_id=7&target=user%3A42"
                                        "&from=2026-01-01T08:00:00%2B08:00&to=2026-01-02T00:00:00.5Z"));
  CHECK(q.limit == 10);
  REQUIRE(q.filter.action);
  CHECK(*q.filter.action == "admin.mfa.");
  CHECK(q.filter.action_prefix);
  CHECK(q.filter.actor_kind == audit_actor::admin);
  CHECK(q.filter.actor_id == 7U);
  CHECK(q.filter.target == "user:42");
  REQUIRE(q.filter.from);
  CHECK(format_rfc3339(*q.filter.from) == "2026-01-01T00:00:00.000000Z");
  REQUIRE(q.filter.to);
  CHECK(format_rfc3339(*q.filter.to) == "2026-01-02T00:00:00.500000Z");

  auto exact = parse_audit_list_query(with_query("action=admin.mfa.reset"));
  CHECK(*exact.filter.action == "admin.mfa.reset");
  CHECK_FALSE(exact.filter.action_prefix);
}

TEST_CASE("bad audit list parameters get a 400 naming the parameter") {
  CHECK(rejected_field("limit=0") == "limit");
  CHECK(rejected_field("limit=201") == "limit");
  CHECK(rejected_field("limit=ten") == "limit");
  CHECK(rejected_field("limit=-1") == "limit");
  CHECK(rejected_field("cursor=garbage") == "cursor");
  CHECK(rejected_field("actor_kind=root") == "actor_kind");
  CHECK(rejected_field("actor_id=0") == "actor_id");
  CHECK(rejected_field("actor_id=12x") == "actor_id");
  CHECK(rejected_field("action=") == "action");
  CHECK(rejected_field("action=" + std::string(65, 'a')) == "action");
  CHECK(rejected_field("target=") == "target");
  CHECK(rejected_field("target=%FF") == "target");
  CHECK(rejected_field("from=yesterday") == "from");
  CHECK(rejected_field("from=2026-02-30T00:00:00Z") == "from");
  CHECK(rejected_field("to=2026-01-01T00:00:00") == "to");
  CHECK(rejected_field("to=2026-01-01T24:00:00Z") == "to");
  CHECK(rejected_field("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z") == "to");
  CHECK(rejected_field("limit=5&limit=6") == "limit");
  CHECK(rejected_field("colour=blue") == "colour");
  CHECK(rejected_field("limit=5") == "");
}
