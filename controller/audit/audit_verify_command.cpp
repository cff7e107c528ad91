#include "controller/audit/audit_verify_command.hpp"

#include <cppconn/exception.h>

#include <iostream>

#include "controller/app/controller_config.hpp"
#include "controller/audit/audit_errors.hpp"
#include "controller/audit/audit_log.hpp"
#include "controller/db/connection_pool.hpp"

namespace derpmgr::controller::audit {

namespace {

constexpr int no_such_table = 1146;

}  // namespace

int audit_verify_command(const controller_config& config, std::ostream& out, std::ostream& err) {
  if (config.database_url.empty()) {
    throw config_error("[database] url is required (or DERPMGR_DATABASE_URL)");
  }
  db::connection_pool pool(db::database_settings::parse(config.database_url), db::connection_pool::options{1});
  audit_verification result;
  try {
    pool.run_blocking([&result](sql::Connection& conn) { result = audit_log{}.verify(conn); }, false);
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() == no_such_table) {
      throw audit_log_error("the audit log tables do not exist: run `derpmgr-controller migrate`");
    }
    throw;
  }
  if (result.problem) {
    err << to_string(*result.problem) << "\n";
    return 1;
  }
  out << "audit log intact: " << result.entries << " entries\n";
  return 0;
}

int audit_verify_command(const controller_config& config) {
  return audit_verify_command(config, std::cout, std::cerr);
}

}  // namespace derpmgr::controller::audit
