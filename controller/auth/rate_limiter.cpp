#include "controller/auth/rate_limiter.hpp"

#include <algorithm>

namespace derpmgr::controller::auth {

rate_limiter::rate_limiter(policy p) : policy_(p) {}

std::chrono::seconds rate_limiter::delay_after(int attempts) const {
  int over = attempts - policy_.free_attempts;
  if (over < 0) {
    return std::chrono::seconds(0);
  }
  auto delay = policy_.base_delay;
  for (int i = 0; i < over && delay < policy_.max_delay; ++i) {
    delay *= 2;
  }
  return std::min(delay, policy_.max_delay);
}

std::optional<std::chrono::seconds> rate_limiter::try_acquire(const std::vector<std::string>& keys, time_point now) {
  std::lock_guard lock(mutex_);
  if (++sweeps_ % 1024 == 0) {
    std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.last > policy_.forget; });
  }
  std::chrono::seconds wait{0};
  for (const auto& key : keys) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      continue;
    }
    auto& e = it->second;
    if (now - e.last > policy_.forget) {
      e = entry{};
      continue;
    }
    auto ready_at = e.last + delay_after(e.attempts);
    if (ready_at > now) {
      wait = std::max(wait, std::chrono::ceil<std::chrono::seconds>(ready_at - now));
    }
  }
  if (wait.count() > 0) {
    return wait;
  }
  for (const auto& key : keys) {
    auto& e = entries_[key];
    ++e.attempts;
    e.last = now;
  }
  return std::nullopt;
}

void rate_limiter::reset(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

}  // namespace derpmgr::controller::auth
