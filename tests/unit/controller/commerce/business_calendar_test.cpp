#include "controller/commerce/business_calendar.hpp"

#include <doctest/doctest.h>

using namespace derpmgr;
using namespace derpmgr::controller::commerce;

namespace {

// A UTC instant from its parts.
time_point utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  auto day = std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  return time_point{std::chrono::duration_cast<std::chrono::microseconds>(
      (day + std::chrono::hours(h) + std::chrono::minutes(mi)).time_since_epoch())};
}

}  // namespace

TEST_CASE("in Asia/Shanghai a month starts at 16:00 UTC on the previous day") {
  business_calendar cal("Asia/Shanghai");
  auto nov = cal.month_of(utc(2026, 10, 31, 16, 30));  // 2026-11-01 00:30 in Shanghai
  CHECK(nov.label() == "2026-11");
  CHECK(nov.starts_at == utc(2026, 10, 31, 16));
  CHECK(nov.ends_at == utc(2026, 11, 30, 16));
  CHECK(cal.month_of(utc(2026, 10, 31, 15, 59)).label() == "2026-10");
  CHECK(cal.month_of(utc(2026, 10, 31, 16, 0)).label() == "2026-11");  // the boundary belongs to the new month
  CHECK(cal.format_local(utc(2026, 10, 31, 16, 30)) == "2026-11-01 00:30:00");
}

TEST_CASE("last_months runs oldest first across the year boundary and each month ends where the next starts") {
  business_calendar cal("Asia/Shanghai");
  auto months = cal.last_months(utc(2026, 2, 10), 12);
  REQUIRE(months.size() == 12);
  CHECK(months.front().label() == "2025-03");
  CHECK(months.back().label() == "2026-02");
  for (std::size_t i = 1; i < months.size(); ++i) {
    CHECK(months[i - 1].ends_at == months[i].starts_at);
  }
  CHECK(months[9].label() == "2025-12");
  CHECK(months[10].label() == "2026-01");
  CHECK(months[10].starts_at == utc(2025, 12, 31, 16));
  CHECK(cal.shift(months.back(), 1).label() == "2026-03");
  CHECK(cal.shift(months.back(), -14).label() == "2024-12");
}

TEST_CASE("months in a zone with daylight saving time follow its offset") {
  business_calendar cal("America/New_York");
  auto march = cal.month_of(utc(2026, 3, 15));
  CHECK(march.starts_at == utc(2026, 3, 1, 5));  // EST, UTC-5
  CHECK(march.ends_at == utc(2026, 4, 1, 4));    // EDT, UTC-4: March is an hour short
  CHECK(cal.month_of(utc(2026, 4, 1, 3, 59)).label() == "2026-03");
}

TEST_CASE("a month whose local midnight is skipped by DST starts at the transition") {
  // Paraguay moved its clocks from 00:00 to 01:00 on Sunday 2023-10-01 (04:00 UTC): October had no midnight.
  business_calendar cal("America/Asuncion");
  auto october = cal.month_of(utc(2023, 10, 15));
  CHECK(october.starts_at == utc(2023, 10, 1, 4));
  CHECK(cal.format_local(october.starts_at) == "2023-10-01 01:00:00");
  CHECK(cal.shift(october, -1).ends_at == october.starts_at);
  CHECK(cal.month_of(utc(2023, 10, 1, 3, 59)).label() == "2023-09");
}

TEST_CASE("UTC months are plain calendar months and unknown zones are refused") {
  business_calendar cal("UTC");
  auto oct = cal.month_of(utc(2026, 10, 31, 23, 59));
  CHECK(oct.starts_at == utc(2026, 10, 1));
  CHECK(oct.ends_at == utc(2026, 11, 1));
  CHECK_THROWS_AS(business_calendar("Mars/Olympus_Mons"), unknown_time_zone);
}
