#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace derpmgr::controller::fleet {

// Token buckets that bound new agent connections (TLS handshakes cost CPU): one for the whole listener and one
// per source address, so a reconnect storm or one noisy host cannot starve the rest.
class handshake_limiter {
 public:
  using clock_type = std::chrono::steady_clock;

  handshake_limiter(double per_second, double burst, double per_ip_per_second, double per_ip_burst);

  // True when a handshake from `ip` may start at `now` (and takes a token from both buckets).
  bool allow(const std::string& ip, clock_type::time_point now);

 private:
  struct bucket {
    double tokens = 0;
    clock_type::time_point updated{};
  };
  static bool take(bucket& b, double rate, double burst, clock_type::time_point now);

  double rate_, burst_, ip_rate_, ip_burst_;
  std::mutex mutex_;
  bucket global_;
  std::map<std::string, bucket> per_ip_;
};

}  // namespace derpmgr::controller::fleet
