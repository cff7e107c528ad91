#include "controller/audit/audit_cursor.hpp"

#include <doctest/doctest.h>

#include <limits>

#include "controller/audit/audit_errors.hpp"

using namespace derpmgr::controller::audit;

TEST_CASE("an audit cursor decodes to the seq it was made from") {
  for (std::uint64_t seq : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{99}, std::uint64_t{1000000},
                            std::numeric_limits<std::uint64_t>::max()}) {
    auto cursor = encode_audit_cursor(seq);
    CHECK(cursor.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(decode_audit_cursor(cursor) == seq);
  }
  CHECK(encode_audit_cursor(5) != encode_audit_cursor(6));
}

TEST_CASE("garbage audit cursors are refused") {
  auto good = encode_audit_cursor(42);
  for (const std::string& bad : {std::string(), std::string("42"), std::string("!!!!"), good + "=", good + "A",
                                 std::string(100, 'A'), std::string("YXVkaXQudjEu"), encode_audit_cursor(0),
                                 std::string("YXVkaXQudjEuMDQy"), std::string("YXVkaXQudjEuLTE")}) {
    CHECK_THROWS_AS(decode_audit_cursor(bad), invalid_audit_cursor);
  }
  // The same bytes spelled with the spare low bits of the last character set: only the canonical spelling counts.
  REQUIRE(good.back() == 'I');
  auto tweaked = good;
  tweaked.back() = 'J';
  CHECK_THROWS_AS(decode_audit_cursor(tweaked), invalid_audit_cursor);
}
