#include "controller/notify/retry_policy.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::notify;
using namespace std::chrono_literals;

TEST_CASE("backoff doubles from 30 s and is capped at an hour") {
  retry_policy policy;
  CHECK(policy.backoff(1) == 30s);
  CHECK(policy.backoff(2) == 60s);
  CHECK(policy.backoff(3) == 120s);
  CHECK(policy.backoff(7) == 1920s);
  CHECK(policy.backoff(8) == 3600s);
  CHECK(policy.backoff(9) == 3600s);
  CHECK(policy.backoff(1000) == 3600s);
}

TEST_CASE("jitter keeps each delay between half and all of the backoff") {
  retry_policy policy;
  for (int attempts = 1; attempts <= 12; ++attempts) {
    auto full = policy.backoff(attempts);
    CHECK(policy.jittered(attempts, 0.0) == full / 2);
    CHECK(policy.jittered(attempts, 0.999999) <= full);
    CHECK(policy.jittered(attempts, 0.5) > full / 2);
    CHECK(policy.jittered(attempts, 7.0) == full);
    CHECK(policy.jittered(attempts, -1.0) == full / 2);
  }
}

TEST_CASE("a message fails for good after the last allowed attempt") {
  retry_policy policy;
  CHECK_FALSE(policy.exhausted(1));
  CHECK_FALSE(policy.exhausted(9));
  CHECK(policy.exhausted(10));
  CHECK(policy.exhausted(11));

  retry_policy quick({5s, 20s, 3});
  CHECK(quick.backoff(1) == 5s);
  CHECK(quick.backoff(2) == 10s);
  CHECK(quick.backoff(3) == 20s);
  CHECK(quick.backoff(4) == 20s);
  CHECK(quick.exhausted(3));
}
