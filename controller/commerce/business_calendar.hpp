#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"

namespace date {
class time_zone;
}

namespace derpmgr::controller::commerce {

// The configured business time zone is not in the OS time-zone database.
class unknown_time_zone : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// One calendar month in the business time zone, as the half-open UTC interval [starts_at, ends_at).
struct business_month {
  std::chrono::year_month month;
  time_point starts_at{};
  time_point ends_at{};

  // "2026-11".
  std::string label() const;
};

// Calendar months as the business counts them: a month starts at local midnight on its first day in the configured
// time zone (so 2026-10-31T16:30Z is November in Asia/Shanghai). Pure; uses the OS tz database through
// Howard Hinnant's date/tz.
class business_calendar {
 public:
  // Throws unknown_time_zone when `time_zone` (an IANA name such as "Asia/Shanghai") is not known.
  explicit business_calendar(const std::string& time_zone);

  const std::string& time_zone() const { return name_; }
  // The month that contains instant `t`.
  business_month month_of(time_point t) const;
  // The month `offset` months after (negative: before) `m`.
  business_month shift(const business_month& m, int offset) const;
  // The `count` months ending with the one containing `t`, oldest first.
  std::vector<business_month> last_months(time_point t, int count) const;
  // Local wall-clock text, "2026-11-01 00:30:00".
  std::string format_local(time_point t) const;

 private:
  business_month month(std::chrono::year_month ym) const;
  time_point local_midnight(std::chrono::year_month ym) const;

  std::string name_;
  const date::time_zone* zone_ = nullptr;
};

}  // namespace derpmgr::controller::commerce
