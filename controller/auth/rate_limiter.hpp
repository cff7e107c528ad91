#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "shared/clock/clock.hpp"

namespace derpmgr::controller::auth {

// Limits how often a key (an account, an IP) may fail: a free budget, then growing delays between attempts
// (doubling, capped) rather than a hard lockout a stranger could trigger. Failures are forgotten after `forget`.
// An attempt is counted when it starts, so a burst of parallel attempts cannot slip past the budget; a success
// clears the key. In-memory, per controller replica.
class rate_limiter {
 public:
  struct policy {
    int free_attempts = 5;
    std::chrono::seconds base_delay{1};
    std::chrono::seconds max_delay{std::chrono::minutes(15)};
    std::chrono::seconds forget{std::chrono::hours(1)};
  };

  explicit rate_limiter(policy p);

  // Starts an attempt on every key at once: nullopt when all allow it (each is then charged one attempt),
  // else how long to wait (nothing is charged).
  std::optional<std::chrono::seconds> try_acquire(const std::vector<std::string>& keys, time_point now);
  // Clears a key after a success.
  void reset(const std::string& key);

 private:
  struct entry {
    int attempts = 0;
    time_point last{};
  };
  std::chrono::seconds delay_after(int attempts) const;

  policy policy_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  std::size_t sweeps_ = 0;
};

}  // namespace derpmgr::controller::auth
