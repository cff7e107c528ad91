#include "controller/commerce/renewal.hpp"

namespace derpmgr::controller::commerce {

rental_period renew(const std::optional<rental_period>& current, const plan_terms& plan, time_point now) {
  auto duration = std::chrono::hours(24 * plan.duration_days);
  bool running = current && current->status != "cancelled" && current->status != "expired" &&
                 current->expires_at > now;
  if (running) {
    rental_period next = *current;
    next.expires_at += duration;
    next.traffic_quota_bytes += plan.traffic_quota_bytes;
    if (next.status == "limited") {
      next.status = "active";
    }
    return next;
  }
  rental_period fresh;
  fresh.status = "pending";  // placement turns it active
  fresh.starts_at = now;
  fresh.expires_at = now + duration;
  fresh.traffic_quota_bytes = plan.traffic_quota_bytes;
  fresh.traffic_used_bytes = 0;
  return fresh;
}

}  // namespace derpmgr::controller::commerce
