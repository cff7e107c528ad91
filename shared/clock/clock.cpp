#include "shared/clock/clock.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

namespace derpmgr {

time_point system_clock::now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

manual_clock::manual_clock(time_point start) : now_(start) {}

time_point manual_clock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void manual_clock::set(time_point t) {
  std::lock_guard lock(mutex_);
  now_ = t;
}

void manual_clock::advance(std::chrono::microseconds d) {
  std::lock_guard lock(mutex_);
  now_ += d;
}

namespace {

std::string format(time_point t, char date_time_separator, bool zulu) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{days};
  std::chrono::hh_mm_ss hms{t - days};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u%c%02d:%02d:%02d.%06lld%s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), date_time_separator,
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<long long>(hms.subseconds().count()),
                zulu ? "Z" : "");
  return buf;
}

}  // namespace

std::string format_rfc3339(time_point t) { return format(t, 'T', true); }

std::string format_sql_datetime(time_point t) { return format(t, ' ', false); }

time_point parse_sql_datetime(std::string_view text) {
  int y = 0;
  unsigned mo = 0, d = 0;
  int h = 0, mi = 0, s = 0;
  std::string copy(text);
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2u-%2u %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6) {
    throw std::invalid_argument("not a DATETIME: " + copy);
  }
  long long micros = 0;
  if (static_cast<std::size_t>(consumed) < copy.size() && copy[consumed] == '.') {
    std::string frac = copy.substr(consumed + 1, 6);
    frac.resize(6, '0');
    micros = std::stoll(frac);
  }
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{mo}, std::chrono::day{d}};
  if (!ymd.ok()) {
    throw std::invalid_argument("not a valid date: " + copy);
  }
  return time_point{std::chrono::sys_days{ymd}.time_since_epoch() + std::chrono::hours{h} +
                    std::chrono::minutes{mi} + std::chrono::seconds{s} + std::chrono::microseconds{micros}};
}

}  // namespace derpmgr
