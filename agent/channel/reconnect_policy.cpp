#include "agent/channel/reconnect_policy.hpp"

#include <algorithm>
#include <cmath>

namespace derpmgr::agent {

reconnect_policy::reconnect_policy(std::uint64_t seed) : reconnect_policy(seed, settings{}) {}

reconnect_policy::reconnect_policy(std::uint64_t seed, settings s) : s_(s), rng_(seed) {
  std::uniform_int_distribution<std::int64_t> cap(s_.cap_min.count(), s_.cap_max.count());
  cap_ = std::chrono::milliseconds(cap(rng_));
}

std::chrono::milliseconds reconnect_policy::window() const {
  double grown = static_cast<double>(s_.base.count()) * std::pow(s_.factor, attempt_);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(std::min(grown, static_cast<double>(cap_.count()))));
}

std::chrono::milliseconds reconnect_policy::draw(std::chrono::milliseconds upper) {
  std::uniform_int_distribution<std::int64_t> d(0, std::max<std::int64_t>(upper.count(), 0));
  return std::chrono::milliseconds(d(rng_));
}

std::chrono::milliseconds reconnect_policy::after_failure() {
  auto upper = window();
  if (upper < cap_) {
    ++attempt_;
  }
  return draw(upper);
}

std::chrono::milliseconds reconnect_policy::after_session(bool healthy) {
  if (!healthy) {
    return after_failure();
  }
  attempt_ = 0;
  return draw(s_.spread);
}

}  // namespace derpmgr::agent
