#pragma once

#include <cstdint>
#include <string>

#include "controller/audit/audit_log.hpp"
#include "controller/db/connection_pool.hpp"
#include "shared/clock/clock.hpp"
#include "tests/support/test_database.hpp"

namespace derpmgr::test {

// A migrated schema of its own with an 8-thread pool, and blocking helpers around the audit log.
struct audit_fixture {
  test_database db{"audit"};
  manual_clock clock{time_point{std::chrono::sys_days{std::chrono::year{2026} / 5 / 1}.time_since_epoch()}};
  controller::db::connection_pool pool{controller::db::database_settings::parse(db.url()),
                                       controller::db::connection_pool::options{8}};

  audit_fixture();

  // Appends `entry` in a transaction of its own at the clock's time, then moves the clock on by a second.
  std::uint64_t append(const controller::audit::audit_entry& entry);
  // Appends `count` entries "test.step" targeting "step:<n>".
  void append_steps(int count);
  controller::audit::audit_verification verify();
};

}  // namespace derpmgr::test
