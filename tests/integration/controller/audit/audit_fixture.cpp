#include "tests/integration/controller/audit/audit_fixture.hpp"

#include "controller/db/migrations.hpp"

namespace derpmgr::test {

using controller::audit::audit_entry;
using controller::audit::audit_log;
using controller::audit::audit_verification;

audit_fixture::audit_fixture() {
  controller::db::migrator m(pool, clock, controller::db::load_migrations(controller::db::embedded_migration_files()),
                             "audit-test");
  m.migrate();
}

std::uint64_t audit_fixture::append(const audit_entry& entry) {
  std::uint64_t seq = 0;
  auto at = clock.now();
  pool.run_blocking([&](sql::Connection& conn) { seq = audit_log{}.append(conn, entry, at); }, true);
  clock.advance(std::chrono::seconds{1});
  return seq;
}

void audit_fixture::append_steps(int count) {
  for (int i = 1; i <= count; ++i) {
    audit_entry e;
    e.action = "test.step";
    e.target = "step:" + std::to_string(i);
    append(e);
  }
}

audit_verification audit_fixture::verify() {
  audit_verification result;
  pool.run_blocking([&](sql::Connection& conn) { result = audit_log{}.verify(conn); }, false);
  return result;
}

}  // namespace derpmgr::test
