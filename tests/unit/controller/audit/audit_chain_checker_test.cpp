#include "controller/audit/audit_chain_checker.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace derpmgr;
using namespace derpmgr::controller::audit;

namespace {

// A well-formed chain of `n` rows and the head that goes with it.
std::vector<audit_record> make_chain(int n) {
  std::vector<audit_record> rows;
  std::string prev(genesis_hash);
  auto at = time_point{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}.time_since_epoch()};
  for (int i = 1; i <= n; ++i) {
    audit_entry e;
    e.action = "test.step";
    e.target = "step:" + std::to_string(i);
    rows.push_back(seal(e, static_cast<std::uint64_t>(i), at + std::chrono::seconds{i}, prev));
    prev = rows.back().hash;
  }
  return rows;
}

audit_head head_of(const std::vector<audit_record>& rows) {
  return rows.empty() ? audit_head{0, std::string(genesis_hash)} : audit_head{rows.back().seq, rows.back().hash};
}

// The first problem the checker reports for `rows` and `head`.
std::optional<audit_problem> check(const std::vector<audit_record>& rows, const audit_head& head) {
  audit_chain_checker checker;
  for (const auto& row : rows) {
    if (auto p = checker.add(row)) {
      return p;
    }
  }
  return checker.finish(head);
}

}  // namespace

TEST_CASE("an intact audit chain and an empty one pass") {
  auto rows = make_chain(5);
  CHECK_FALSE(check(rows, head_of(rows)));
  CHECK_FALSE(check({}, head_of({})));
  audit_chain_checker checker;
  for (const auto& row : rows) {
    checker.add(row);
  }
  CHECK(checker.entries() == 5);
}

TEST_CASE("each kind of audit chain break is reported at the right seq") {
  auto rows = make_chain(6);
  auto head = head_of(rows);

  auto altered = rows;
  altered[2].details = R"({"forged":true})";
  auto p = check(altered, head);
  REQUIRE(p);
  CHECK(p->seq == 3);
  CHECK(p->fault == audit_fault::altered);

  auto gap = rows;
  gap.erase(gap.begin() + 3);
  p = check(gap, head);
  REQUIRE(p);
  CHECK(p->seq == 4);
  CHECK(p->fault == audit_fault::missing_row);

  auto first_gone = rows;
  first_gone.erase(first_gone.begin());
  p = check(first_gone, head);
  REQUIRE(p);
  CHECK(p->seq == 1);
  CHECK(p->fault == audit_fault::missing_row);

  auto swapped = rows;
  std::swap(swapped[1], swapped[4]);
  std::swap(swapped[1].seq, swapped[4].seq);
  p = check(swapped, head);
  REQUIRE(p);
  CHECK(p->seq == 2);
  CHECK(p->fault == audit_fault::out_of_order);

  auto tail = rows;
  tail.pop_back();
  p = check(tail, head);
  REQUIRE(p);
  CHECK(p->seq == 6);
  CHECK(p->fault == audit_fault::missing_tail);

  p = check(rows, audit_head{6, std::string(64, 'a')});
  REQUIRE(p);
  CHECK(p->seq == 6);
  CHECK(p->fault == audit_fault::head_mismatch);

  p = check(rows, audit_head{4, rows[3].hash});
  REQUIRE(p);
  CHECK(p->seq == 5);
  CHECK(p->fault == audit_fault::beyond_head);
}

TEST_CASE("a rehashed audit forgery still breaks the link to the next row") {
  auto rows = make_chain(4);
  rows[1].details = R"({"forged":true})";
  rows[1].hash = chain_hash(rows[1]);
  auto p = check(rows, head_of(rows));
  REQUIRE(p);
  CHECK(p->seq == 3);
  CHECK(p->fault == audit_fault::out_of_order);
}

TEST_CASE("audit problems read as one line naming the seq") {
  CHECK(to_string(audit_problem{17, audit_fault::altered}) == "audit log broken at seq 17: row altered");
  CHECK(to_string(audit_problem{4, audit_fault::missing_row}) == "audit log broken at seq 4: row missing");
}
