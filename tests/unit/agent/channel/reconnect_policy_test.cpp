#include "agent/channel/reconnect_policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>

using derpmgr::agent::reconnect_policy;
using namespace std::chrono_literals;

TEST_CASE("the window starts at 1 s and grows ×1.6 per failure, and every draw lies within it") {
  reconnect_policy p(42);
  for (int i = 0; i < 8; ++i) {
    auto window = p.window();
    CHECK(std::abs(static_cast<double>(window.count()) - 1000 * std::pow(1.6, i)) <= 1.0);
    auto wait = p.after_failure();
    CHECK(wait >= 0ms);
    CHECK(wait <= window);
  }
  CHECK(p.window() > 42s);  // 1.6^8 s ≈ 42.9 s, still under any cap
  CHECK(p.window() < 43s);
}

TEST_CASE("the cap is drawn within 60–120 s and the window stops there") {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    reconnect_policy p(seed);
    CHECK(p.cap() >= 60s);
    CHECK(p.cap() <= 120s);
    for (int i = 0; i < 40; ++i) {
      auto window = p.window();
      CHECK(window <= p.cap());
      auto wait = p.after_failure();
      CHECK(wait <= window);
    }
    CHECK(p.window() == p.cap());  // 1.6^40 s is far past any cap
  }
}

TEST_CASE("full jitter: draws cover the whole window, not just its top") {
  reconnect_policy p(7);
  for (int i = 0; i < 40; ++i) {
    p.after_failure();
  }
  REQUIRE(p.window() == p.cap());
  auto cap = p.cap();
  std::int64_t low = 0, high = 0;
  for (int i = 0; i < 2000; ++i) {
    auto wait = p.after_failure();
    REQUIRE(wait >= 0ms);
    REQUIRE(wait <= cap);
    low += wait < cap / 4 ? 1 : 0;
    high += wait > cap * 3 / 4 ? 1 : 0;
  }
  // Uniform over [0, cap]: about a quarter each side.
  CHECK(low > 300);
  CHECK(high > 300);
}

TEST_CASE("a healthy session resets the backoff and its first wait is within the spread") {
  reconnect_policy::settings s;
  s.spread = 10s;
  reconnect_policy p(99, s);
  for (int i = 0; i < 20; ++i) {
    p.after_failure();
  }
  CHECK(p.window() > 10s);
  for (int i = 0; i < 200; ++i) {
    auto wait = p.after_session(true);
    CHECK(wait >= 0ms);
    CHECK(wait <= 10s);
    CHECK(p.window() == 1s);  // back to the first step
  }
  // The failures after that grow from 1 s again.
  CHECK(p.after_failure() <= 1s);
  CHECK(p.window() == 1600ms);

  SUBCASE("an unhealthy session counts as one more failure") {
    auto before = p.window();
    auto wait = p.after_session(false);
    CHECK(wait <= before);
    CHECK(p.window() == 2560ms);
  }
}

TEST_CASE("a thousand agents reconnecting after a controller restart spread over the window") {
  constexpr int agents = 1000;
  std::array<int, 10> per_second{};
  for (std::uint64_t seed = 1; seed <= agents; ++seed) {
    reconnect_policy p(seed);  // consecutive seeds: the least favourable case for spreading
    auto wait = p.after_session(true);
    REQUIRE(wait >= 0ms);
    REQUIRE(wait <= 10s);
    auto bucket = std::min<std::int64_t>(wait.count() / 1000, 9);
    ++per_second[static_cast<std::size_t>(bucket)];
  }
  auto busiest = *std::max_element(per_second.begin(), per_second.end());
  auto quietest = *std::min_element(per_second.begin(), per_second.end());
  CHECK(busiest <= agents / 5);  // no one-second bucket holds more than 20 %
  CHECK(quietest >= agents / 20);

  SUBCASE("and so do agents whose backoff had reached the cap") {
    std::array<int, 12> per_ten_seconds{};
    for (std::uint64_t seed = 5000; seed < 5000 + agents; ++seed) {
      reconnect_policy p(seed);
      for (int i = 0; i < 30; ++i) {
        p.after_failure();
      }
      auto wait = p.after_failure();
      ++per_ten_seconds[static_cast<std::size_t>(std::min<std::int64_t>(wait.count() / 10'000, 11))];
    }
    CHECK(*std::max_element(per_ten_seconds.begin(), per_ten_seconds.end()) <= agents / 5);
  }
}
