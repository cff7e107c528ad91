#include "controller/fleet/handshake_limiter.hpp"

#include <doctest/doctest.h>

#include <string>

using derpmgr::controller::fleet::handshake_limiter;
using namespace std::chrono_literals;

namespace {

// Far from the clock's epoch, as a real steady_clock reading is.
const handshake_limiter::clock_type::time_point t0{std::chrono::hours(100)};

int allowed(handshake_limiter& limiter, const std::string& ip, int tries, handshake_limiter::clock_type::time_point at) {
  int n = 0;
  for (int i = 0; i < tries; ++i) {
    n += limiter.allow(ip, at) ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_CASE("one address gets its burst, then tokens at the refill rate") {
  handshake_limiter limiter(1000, 1000, 2, 5);  // the global bucket never binds here
  CHECK(allowed(limiter, "10.0.0.1", 20, t0) == 5);
  CHECK_FALSE(limiter.allow("10.0.0.1", t0 + 100ms));  // 0.2 of a token
  CHECK(allowed(limiter, "10.0.0.1", 10, t0 + 600ms) == 1);  // 0.2 + 2/s × 0.5 s = 1.2 tokens
  CHECK(allowed(limiter, "10.0.0.1", 10, t0 + 1600ms) == 2);  // 0.2 + 2 more
  // A long pause refills to the burst, never beyond it.
  CHECK(allowed(limiter, "10.0.0.1", 20, t0 + 1h) == 5);
}

TEST_CASE("each address has its own bucket") {
  handshake_limiter limiter(1000, 1000, 1, 3);
  CHECK(allowed(limiter, "10.0.0.1", 10, t0) == 3);
  CHECK_FALSE(limiter.allow("10.0.0.1", t0));
  // A noisy neighbour does not use up anyone else's tokens.
  CHECK(allowed(limiter, "10.0.0.2", 10, t0) == 3);
  CHECK(allowed(limiter, "2001:db8::1", 10, t0) == 3);
  CHECK_FALSE(limiter.allow("10.0.0.2", t0));
}

TEST_CASE("the global bucket caps all addresses together") {
  handshake_limiter limiter(10, 20, 100, 100);
  int total = 0;
  for (int i = 0; i < 100; ++i) {
    total += limiter.allow("10.0.1." + std::to_string(i), t0) ? 1 : 0;
  }
  CHECK(total == 20);
  // Refilled at 10/s: 0.55 s later five more, from any address.
  total = 0;
  for (int i = 100; i < 200; ++i) {
    total += limiter.allow("10.0.2." + std::to_string(i), t0 + 550ms) ? 1 : 0;
  }
  CHECK(total == 5);
}

TEST_CASE("a handshake refused by the global cap does not spend the address's own token") {
  handshake_limiter limiter(1, 1, 0.001, 2);  // an address's tokens practically never refill here
  CHECK(limiter.allow("10.0.0.9", t0));        // takes the only global token
  CHECK_FALSE(limiter.allow("10.0.0.8", t0));  // global empty
  CHECK_FALSE(limiter.allow("10.0.0.8", t0));
  // The global bucket refills each second; 10.0.0.8 still has both of its own tokens.
  CHECK(limiter.allow("10.0.0.8", t0 + 1s));
  CHECK(limiter.allow("10.0.0.8", t0 + 2s));
  CHECK_FALSE(limiter.allow("10.0.0.8", t0 + 3s));  // now its own bucket is empty
}
