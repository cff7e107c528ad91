#pragma once

#include <chrono>
#include <mutex>

namespace derpmgr {

using time_point = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// The source of business time (expiry, rotation, reminders); injected so tests can drive it.
class clock {
 public:
  virtual ~clock() = default;
  // Current UTC time, microsecond precision (what DATETIME(6) stores).
  virtual time_point now() const = 0;
};

// Wall-clock time.
class system_clock final : public clock {
 public:
  time_point now() const override;
};

// A clock that moves only when a test sets or advances it.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start);
  time_point now() const override;
  void set(time_point t);
  void advance(std::chrono::microseconds d);

 private:
  mutable std::mutex mutex_;
  time_point now_;
};

// RFC 3339 UTC text with microseconds, e.g. 2026-11-28T17:59:28.123456Z.
std::string format_rfc3339(time_point t);
// SQL DATETIME(6) text, e.g. 2026-11-28 17:59:28.123456.
std::string format_sql_datetime(time_point t);
// Parses SQL DATETIME / DATETIME(6) text as UTC; throws std::invalid_argument.
time_point parse_sql_datetime(std::string_view text);

}  // namespace derpmgr
