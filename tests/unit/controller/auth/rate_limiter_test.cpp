#include "controller/auth/rate_limiter.hpp"

#include <doctest/doctest.h>

using namespace derpmgr;
using derpmgr::controller::auth::rate_limiter;

TEST_CASE("a key gets its free attempts, then doubling delays, and is forgotten later") {
  rate_limiter limiter({3, std::chrono::seconds(2), std::chrono::seconds(60), std::chrono::hours(1)});
  time_point t{std::chrono::hours(1000)};
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(limiter.try_acquire({"a"}, t));
  }
  auto wait = limiter.try_acquire({"a"}, t);
  REQUIRE(wait);
  CHECK(wait->count() == 2);
  t += std::chrono::seconds(2);
  CHECK_FALSE(limiter.try_acquire({"a"}, t));  // the 4th attempt, after the first delay
  auto second = limiter.try_acquire({"a"}, t);
  REQUIRE(second);
  CHECK(second->count() == 4);  // doubled
  CHECK_FALSE(limiter.try_acquire({"b"}, t));  // other keys are unaffected
  t += std::chrono::hours(2);
  CHECK_FALSE(limiter.try_acquire({"a"}, t));  // forgotten
}

TEST_CASE("delays are capped and a success clears the key") {
  rate_limiter limiter({1, std::chrono::seconds(1), std::chrono::seconds(10), std::chrono::hours(1)});
  time_point t{std::chrono::hours(1)};
  for (int i = 0; i < 20; ++i) {
    while (auto w = limiter.try_acquire({"k"}, t)) {
      CHECK(w->count() <= 10);
      t += *w;
    }
  }
  limiter.reset("k");
  CHECK_FALSE(limiter.try_acquire({"k"}, t));
}

TEST_CASE("an attempt on several keys is charged to all or none") {
  rate_limiter limiter({1, std::chrono::seconds(5), std::chrono::seconds(60), std::chrono::hours(1)});
  time_point t{std::chrono::hours(1)};
  CHECK_FALSE(limiter.try_acquire({"ip"}, t));
  CHECK(limiter.try_acquire({"ip", "account"}, t));  // ip must wait, so account is not charged
  CHECK_FALSE(limiter.try_acquire({"account"}, t));
}
