#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/commerce/business_calendar.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::commerce {

// Completed orders of one business month.
struct month_revenue {
  business_month month;
  std::int64_t revenue_cents = 0;
  std::int64_t orders = 0;
};

// Completed orders of one plan, all time and in the current month.
struct plan_revenue {
  std::uint64_t plan_id = 0;
  std::string plan_name;
  std::int64_t revenue_cents = 0;
  std::int64_t purchases = 0;
  std::int64_t month_revenue_cents = 0;
  std::int64_t month_purchases = 0;
};

// The finance summary's figures (money in minor units). Revenue counts completed orders only: cancelled and
// refunded ones are out. Prepaid balances are money owed to customers, not revenue.
struct finance_figures {
  std::vector<month_revenue> months;  // oldest first; the last is the current month
  std::int64_t revenue_total_cents = 0;
  std::int64_t orders_total = 0;
  std::vector<plan_revenue> plans;  // by plan id
  std::int64_t prepaid_outstanding_cents = 0;
  std::int64_t active_rentals = 0;      // pending, active or limited, and not past their expiry at `now`
  std::int64_t new_customers = 0;       // users whose first completed order falls in the current month
  std::int64_t new_registrations = 0;   // accounts created in the current month

  const month_revenue& current() const { return months.back(); }
};

// SQL for the finance summary. Runs in the caller's unit of work.
class finance_repository {
 public:
  // Figures for `months` (oldest first, at least one; the last is "this month") as of `now`.
  static finance_figures load(sql::Connection& conn, const std::vector<business_month>& months, time_point now);
};

}  // namespace derpmgr::controller::commerce
