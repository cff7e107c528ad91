#include "controller/notify/retry_policy.hpp"

#include <algorithm>

namespace derpmgr::controller::notify {

retry_policy::retry_policy(options opts) : options_(opts) {}

bool retry_policy::exhausted(int attempts) const {
  return attempts >= options_.max_attempts;
}

std::chrono::microseconds retry_policy::backoff(int attempts) const {
  std::chrono::microseconds delay = options_.base;
  for (int i = 1; i < attempts && delay < options_.cap; ++i) {
    delay *= 2;
  }
  return std::min<std::chrono::microseconds>(delay, options_.cap);
}

std::chrono::microseconds retry_policy::jittered(int attempts, double unit) const {
  auto full = backoff(attempts);
  double scale = 0.5 + 0.5 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::microseconds(
      static_cast<std::chrono::microseconds::rep>(static_cast<double>(full.count()) * scale));
}

}  // namespace derpmgr::controller::notify
