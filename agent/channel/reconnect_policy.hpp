#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace derpmgr::agent {

// When to dial the controller again: capped exponential backoff (1 s × 1.6ⁿ, cap drawn once in 60–120 s) with
// full jitter (a uniform draw in [0, window]); after the loss of a healthy session the first wait is drawn from
// [0, spread] instead, so a controller restart does not bring every agent back in the same second.
class reconnect_policy {
 public:
  struct settings {
    std::chrono::milliseconds base{1000};
    double factor = 1.6;
    std::chrono::milliseconds cap_min{60'000};
    std::chrono::milliseconds cap_max{120'000};
    std::chrono::milliseconds spread{10'000};
  };

  explicit reconnect_policy(std::uint64_t seed);
  reconnect_policy(std::uint64_t seed, settings s);

  // The wait before the next attempt after a failed one.
  std::chrono::milliseconds after_failure();
  // The wait after a session ends: a healthy one resets the backoff and waits within the spread.
  std::chrono::milliseconds after_session(bool healthy);
  std::chrono::milliseconds cap() const { return cap_; }
  // The upper bound of the next after_failure() draw.
  std::chrono::milliseconds window() const;

 private:
  std::chrono::milliseconds draw(std::chrono::milliseconds upper);

  settings s_;
  std::mt19937_64 rng_;
  std::chrono::milliseconds cap_;
  int attempt_ = 0;
};

}  // namespace derpmgr::agent
