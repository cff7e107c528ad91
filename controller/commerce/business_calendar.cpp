#include "controller/commerce/business_calendar.hpp"

#include <date/tz.h>

#include <cstdio>

namespace derpmgr::controller::commerce {

namespace {

std::chrono::year_month to_std(date::year_month ym) {
  return std::chrono::year{static_cast<int>(ym.year())} / std::chrono::month{static_cast<unsigned>(ym.month())};
}

date::year_month to_date(std::chrono::year_month ym) {
  return date::year{static_cast<int>(ym.year())} / date::month{static_cast<unsigned>(ym.month())};
}

}  // namespace

std::string business_month::label() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(month.year()), static_cast<unsigned>(month.month()));
  return buf;
}

business_calendar::business_calendar(const std::string& time_zone) : name_(time_zone) {
  try {
    zone_ = date::locate_zone(time_zone);
  } catch (const std::runtime_error&) {
    throw unknown_time_zone("unknown time zone \"" + time_zone + "\" (expected an IANA name such as Asia/Shanghai)");
  }
}

time_point business_calendar::local_midnight(std::chrono::year_month ym) const {
  auto first = date::local_days{to_date(ym) / 1};
  // Where a DST change skips midnight, the month starts at the transition; where it repeats, at the first one.
  auto sys = zone_->to_sys(first, date::choose::earliest);
  return time_point{std::chrono::duration_cast<std::chrono::microseconds>(sys.time_since_epoch())};
}

business_month business_calendar::month(std::chrono::year_month ym) const {
  return business_month{ym, local_midnight(ym), local_midnight(ym + std::chrono::months{1})};
}

business_month business_calendar::month_of(time_point t) const {
  auto local = zone_->to_local(date::sys_time<std::chrono::microseconds>{t.time_since_epoch()});
  date::year_month_day ymd{date::floor<date::days>(local)};
  return month(to_std(ymd.year() / ymd.month()));
}

business_month business_calendar::shift(const business_month& m, int offset) const {
  return month(m.month + std::chrono::months{offset});
}

std::vector<business_month> business_calendar::last_months(time_point t, int count) const {
  auto current = month_of(t);
  std::vector<business_month> out;
  out.reserve(static_cast<std::size_t>(count > 0 ? count : 0));
  for (int i = count - 1; i >= 0; --i) {
    out.push_back(shift(current, -i));
  }
  return out;
}

std::string business_calendar::format_local(time_point t) const {
  auto local = zone_->to_local(date::sys_time<std::chrono::microseconds>{t.time_since_epoch()});
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd{day};
  date::hh_mm_ss hms{date::floor<std::chrono::seconds>(local - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace derpmgr::controller::commerce
