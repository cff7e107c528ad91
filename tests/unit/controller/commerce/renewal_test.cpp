#include "controller/commerce/renewal.hpp"

#include <doctest/doctest.h>

using namespace derpmgr;
using namespace derpmgr::controller::commerce;

namespace {

const time_point now{std::chrono::hours(24 * 20000)};
constexpr auto day = std::chrono::hours(24);

plan_terms plan(std::int64_t days, std::uint64_t quota) {
  plan_terms t;
  t.name = "p";
  t.duration_days = days;
  t.traffic_quota_bytes = quota;
  return t;
}

}  // namespace

TEST_CASE("a first purchase starts a pending period now with the full quota") {
  auto p = renew(std::nullopt, plan(30, 100), now);
  CHECK(p.status == "pending");
  CHECK(p.starts_at == now);
  CHECK(p.expires_at == now + 30 * day);
  CHECK(p.traffic_quota_bytes == 100);
  CHECK(p.traffic_used_bytes == 0);
}

TEST_CASE("renewing a running rental adds the duration to its expiry and the quota to its quota") {
  rental_period running{"active", now - 10 * day, now + 20 * day, 100, 60};
  auto p = renew(running, plan(30, 100), now);
  CHECK(p.status == "active");
  CHECK(p.starts_at == running.starts_at);
  CHECK(p.expires_at == now + 50 * day);  // moves from the old expiry, not from now
  CHECK(p.traffic_quota_bytes == 200);
  CHECK(p.traffic_used_bytes == 60);
  auto twice = renew(p, plan(5, 1), now);
  CHECK(twice.expires_at == now + 55 * day);  // each purchase advances the date exactly once

  rental_period limited{"limited", now - day, now + day, 100, 100};
  CHECK(renew(limited, plan(3, 50), now).status == "active");
}

TEST_CASE("renewing a lapsed rental starts a new period now") {
  rental_period lapsed{"expired", now - 40 * day, now - 10 * day, 100, 100};
  auto p = renew(lapsed, plan(30, 300), now);
  CHECK(p.starts_at == now);
  CHECK(p.expires_at == now + 30 * day);
  CHECK(p.traffic_quota_bytes == 300);
  CHECK(p.traffic_used_bytes == 0);
  rental_period past_due{"active", now - 40 * day, now - day, 100, 10};  // not yet marked expired
  CHECK(renew(past_due, plan(3, 1), now).starts_at == now);
}
