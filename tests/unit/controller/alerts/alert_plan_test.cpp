#include "controller/alerts/alert_plan.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::alerts;

namespace {

condition_scan offline(std::vector<std::uint64_t> holding, std::set<std::uint64_t> undecided = {}) {
  condition_scan scan{"node_offline", "node", {}, std::move(undecided)};
  for (auto id : holding) {
    scan.holding.push_back(new_alert{{"node_offline", "node", id}, "critical", "node " + std::to_string(id)});
  }
  return scan;
}

std::set<std::uint64_t> subjects(const std::vector<new_alert>& alerts) {
  std::set<std::uint64_t> out;
  for (const auto& a : alerts) {
    out.insert(a.key.subject_id);
  }
  return out;
}

std::set<std::uint64_t> subjects(const std::vector<alert_key>& keys) {
  std::set<std::uint64_t> out;
  for (const auto& k : keys) {
    CHECK(k.kind == "node_offline");
    CHECK(k.subject_type == "node");
    out.insert(k.subject_id);
  }
  return out;
}

}  // namespace

TEST_CASE("a condition that holds raises an alert once: not again while one is open") {
  auto changes = plan_alert_changes(offline({1, 2}), {});
  CHECK(subjects(changes.raise) == std::set<std::uint64_t>{1, 2});
  CHECK(changes.resolve.empty());
  CHECK(changes.raise[0].severity == "critical");

  auto again = plan_alert_changes(offline({1, 2}), {1, 2});
  CHECK(again.raise.empty());
  CHECK(again.resolve.empty());
}

TEST_CASE("an open alert whose condition cleared (or whose subject is gone) is resolved") {
  auto changes = plan_alert_changes(offline({2}), {1, 2, 3});
  CHECK(changes.raise.empty());
  CHECK(subjects(changes.resolve) == std::set<std::uint64_t>{1, 3});
}

TEST_CASE("an undecided subject keeps its alert open and raises none (a controller restart does not flap)") {
  auto changes = plan_alert_changes(offline({}, {1, 4}), {1});
  CHECK(changes.raise.empty());
  CHECK(changes.resolve.empty());
  auto held = plan_alert_changes(offline({4}, {4}), {});
  CHECK(held.raise.empty());
}
