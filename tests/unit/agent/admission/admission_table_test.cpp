#include "agent/admission/admission_table.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace derpmgr::agent;
using derpmgr::manual_clock;
using derpmgr::time_point;
using derpmgr::protocol::allocation_spec;
using derpmgr::protocol::desired_state;

namespace {

std::string key(char digit) {
  return "nodekey:" + std::string(64, digit);
}

std::string body(const std::string& node_key, const std::string& source = "203.0.113.5") {
  return R"({"NodePublic":")" + node_key + R"(","Source":")" + source + R"("})";
}

desired_state two_allocations() {
  allocation_spec a;
  a.id = 1;
  a.admission_token = "token-one";
  a.allowed_keys = {key('a'), key('b')};
  allocation_spec b;
  b.id = 2;
  b.admission_token = "token-two";
  b.allowed_keys = {key('c'), "nodekey:not-a-key"};
  return desired_state{7, 1, {a, b}};
}

const time_point start{std::chrono::seconds(1'800'000'000)};

}  // namespace

TEST_CASE("admission table: node key syntax") {
  const auto parsed = parse_node_key(key('0') + "");
  REQUIRE(parsed.has_value());
  CHECK(format_node_key(*parsed) == key('0'));
  const std::string mixed = "nodekey:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  REQUIRE(parse_node_key(mixed).has_value());
  CHECK(format_node_key(*parse_node_key(mixed)) == mixed);
  CHECK_FALSE(parse_node_key("nodekey:" + std::string(64, 'A')).has_value());  // uppercase refused
  CHECK_FALSE(parse_node_key("nodekey:" + std::string(63, 'a')).has_value());
  CHECK_FALSE(parse_node_key("nodekey:" + std::string(65, 'a')).has_value());
  CHECK_FALSE(parse_node_key("discokey:" + std::string(64, 'a')).has_value());
  CHECK_FALSE(parse_node_key(std::string(64, 'a')).has_value());
  CHECK_FALSE(parse_node_key("nodekey:" + std::string(63, 'a') + "g").has_value());
}

TEST_CASE("admission table: decisions per token and key") {
  manual_clock clock(start);
  admission_table table(clock);
  CHECK_FALSE(table.admit("token-one", body(key('a'))));  // empty until the first update
  table.update(two_allocations());

  CHECK(table.admit("token-one", body(key('a'))));
  CHECK(table.admit("token-one", body(key('b'))));
  CHECK(table.admit("token-two", body(key('c'))));
  CHECK_FALSE(table.admit("token-one", body(key('c'))));  // another allocation's key
  CHECK_FALSE(table.admit("token-two", body(key('a'))));
  CHECK_FALSE(table.admit("token-three", body(key('a'))));  // unknown token
  CHECK_FALSE(table.admit("", body(key('a'))));
  CHECK_FALSE(table.admit("token-one", body("nodekey:" + std::string(64, 'A'))));  // uppercase hex
  CHECK_FALSE(table.admit("token-one", "not json"));
  CHECK_FALSE(table.admit("token-one", R"({"NodePublic":42})"));
  CHECK_FALSE(table.admit("token-one", R"(["nodekey:aaaa"])"));
  CHECK_FALSE(table.admit("token-one", R"({"NodePublic":")" + key('a') + R"(","Source":7})"));
  CHECK(table.admit("token-one", R"({"NodePublic":")" + key('a') + R"("})"));  // no Source: still a device
}

TEST_CASE("admission table: an update replaces the whole table") {
  manual_clock clock(start);
  admission_table table(clock);
  table.update(two_allocations());
  CHECK(table.admit("token-one", body(key('a'))));

  desired_state next = two_allocations();
  next.allocations[0].allowed_keys = {key('d')};
  next.allocations.pop_back();
  table.update(next);
  CHECK_FALSE(table.admit("token-one", body(key('a'))));
  CHECK(table.admit("token-one", body(key('d'))));
  CHECK_FALSE(table.admit("token-two", body(key('c'))));
}

TEST_CASE("admission table: the report aggregates decisions and starts afresh") {
  manual_clock clock(start);
  admission_table table(clock);
  table.update(two_allocations());

  table.admit("token-one", body(key('a'), "198.51.100.1"));
  clock.advance(std::chrono::seconds(5));
  table.admit("token-one", body(key('a'), "198.51.100.2"));
  table.admit("token-two", body(key('c'), "2001:db8::1"));
  table.admit("token-two", body(key('a'), "192.0.2.9"));
  table.admit("token-two", body(key('a'), "192.0.2.9"));
  table.admit("no-such-token", body(key('e'), "192.0.2.10"));
  table.admit("token-one", "{}");

  admission_report report = table.take_report();
  REQUIRE(report.admitted.size() == 2);
  CHECK(report.admitted[0].allocation_id == 1);
  CHECK(report.admitted[0].node_key == key('a'));
  CHECK(report.admitted[0].count == 2);
  CHECK(report.admitted[0].last_seen == start + std::chrono::seconds(5));
  CHECK(report.admitted[0].last_source == "198.51.100.2");
  CHECK(report.admitted[1].allocation_id == 2);
  CHECK(report.admitted[1].node_key == key('c'));
  CHECK(report.admitted[1].last_source == "2001:db8::1");

  REQUIRE(report.rejected.size() == 2);
  CHECK(report.rejected[0].allocation_id == 0);  // unknown token: no allocation, and the token is not reported
  CHECK(report.rejected[0].node_key == key('e'));
  CHECK(report.rejected[0].count == 1);
  CHECK(report.rejected[1].allocation_id == 2);
  CHECK(report.rejected[1].node_key == key('a'));
  CHECK(report.rejected[1].count == 2);
  CHECK(report.rejected[1].last_source == "192.0.2.9");
  CHECK(report.malformed == 1);
  CHECK(report.dropped == 0);

  CHECK(table.take_report().empty());
}

TEST_CASE("admission table: a flood of unknown keys is counted, not itemised without bound") {
  manual_clock clock(start);
  admission_table table(clock, 3);
  table.update(two_allocations());
  for (char digit : {'1', '2', '3', '4', '5'}) {
    CHECK_FALSE(table.admit("token-one", body(key(digit))));
  }
  CHECK_FALSE(table.admit("token-one", body(key('1'))));  // already itemised: still counted
  const admission_report report = table.take_report();
  CHECK(report.rejected.size() == 3);
  CHECK(report.rejected[0].count == 2);
  CHECK(report.dropped == 2);
}
