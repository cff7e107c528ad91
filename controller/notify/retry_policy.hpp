#pragma once

#include <chrono>

namespace derpmgr::controller::notify {

// When a failed delivery is tried again: exponential backoff (base × 2^(failures-1), capped) with jitter, and a
// limit on attempts after which the message fails for good.
class retry_policy {
 public:
  struct options {
    std::chrono::seconds base{30};
    std::chrono::seconds cap{3600};
    int max_attempts = 10;
  };

  retry_policy() = default;
  explicit retry_policy(options opts);

  // True when a message that has failed `attempts` times must not be tried again.
  bool exhausted(int attempts) const;
  // The delay before the next try after `attempts` (>= 1) failed ones, before jitter.
  std::chrono::microseconds backoff(int attempts) const;
  // backoff(attempts) scaled into [1/2, 1] by `unit` in [0, 1): spreads retries so replicas and messages that failed
  // together do not come back together.
  std::chrono::microseconds jittered(int attempts, double unit) const;

  const options& settings() const { return options_; }

 private:
  options options_;
};

}  // namespace derpmgr::controller::notify
