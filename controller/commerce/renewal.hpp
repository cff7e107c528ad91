#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controller/commerce/plan_repository.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::commerce {

// The parts of a rental that a purchase changes.
struct rental_period {
  std::string status;  // pending, active, limited, suspended, expired, cancelled
  time_point starts_at{};
  time_point expires_at{};
  std::uint64_t traffic_quota_bytes = 0;
  std::uint64_t traffic_used_bytes = 0;
};

// What buying `plan` at `now` does to `current` (DESIGN §4 "Rental states and timeline"): from a running rental
// (not expired, not cancelled) the expiry moves by the plan's duration and the quota grows by the plan's; from a
// lapsed one — or none — a new period starts now with the plan's full quota. A limited rental becomes active again.
// Suspended rentals are not renewed here (callers refuse them).
rental_period renew(const std::optional<rental_period>& current, const plan_terms& plan, time_point now);

}  // namespace derpmgr::controller::commerce
