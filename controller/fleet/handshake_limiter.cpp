#include "controller/fleet/handshake_limiter.hpp"

#include <algorithm>

namespace derpmgr::controller::fleet {

handshake_limiter::handshake_limiter(double per_second, double burst, double per_ip_per_second, double per_ip_burst)
    : rate_(per_second), burst_(burst), ip_rate_(per_ip_per_second), ip_burst_(per_ip_burst) {
  global_.tokens = burst_;
}

bool handshake_limiter::take(bucket& b, double rate, double burst, clock_type::time_point now) {
  if (b.updated == clock_type::time_point{}) {
    b.tokens = burst;
  } else {
    double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(burst, b.tokens + std::max(0.0, elapsed) * rate);
  }
  b.updated = now;
  if (b.tokens < 1.0) {
    return false;
  }
  b.tokens -= 1.0;
  return true;
}

bool handshake_limiter::allow(const std::string& ip, clock_type::time_point now) {
  std::lock_guard lock(mutex_);
  if (per_ip_.size() > 100000) {
    // Forget idle sources rather than grow without bound.
    std::erase_if(per_ip_, [&](const auto& kv) { return now - kv.second.updated > std::chrono::minutes(1); });
  }
  auto& ip_bucket = per_ip_[ip];
  bucket probe = ip_bucket;
  if (!take(probe, ip_rate_, ip_burst_, now)) {
    ip_bucket = probe;
    return false;
  }
  if (!take(global_, rate_, burst_, now)) {
    return false;
  }
  ip_bucket = probe;
  return true;
}

}  // namespace derpmgr::controller::fleet
