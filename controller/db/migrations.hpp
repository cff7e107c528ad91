#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/net/net.hpp"

namespace derpmgr {
class clock;
}

namespace derpmgr::controller::db {

class connection_pool;

// A schema problem that stops the controller: a database newer than this build, an edited migration, a bad file.
class migration_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One numbered schema step, from schema/NNNN_name.sql.
struct migration {
  int version = 0;
  std::string name;
  std::string sql;
  std::string checksum;  // SHA-256 hex of the file text
};

// The schema/*.sql files compiled into this binary (name, text).
const std::vector<std::pair<std::string, std::string>>& embedded_migration_files();

// Parses files named NNNN_name.sql into migrations sorted by version; throws migration_error on a bad name, a
// duplicate version or a gap in the numbering (1, 2, 3, …).
std::vector<migration> load_migrations(const std::vector<std::pair<std::string, std::string>>& files);

// What the database has: version → checksum.
using applied_versions = std::map<int, std::string>;

// The migrations still to apply, in order. Throws migration_error when the database has a version this build does
// not know (it is newer), or an applied migration whose text has changed.
std::vector<migration> pending_migrations(const std::vector<migration>& known, const applied_versions& applied);

// Splits a migration into statements at top-level semicolons (quotes and -- / # / /* */ comments respected).
std::vector<std::string> split_sql_statements(std::string_view sql);

// Where the database stands relative to this build.
struct schema_status {
  int current = 0;  // highest applied version
  int latest = 0;   // highest version this build knows
  bool up_to_date() const { return current == latest; }
};

// Applies migrations under a lease row so two controllers starting together never race.
class migrator {
 public:
  migrator(connection_pool& pool, const clock& clk, std::vector<migration> migrations, std::string holder);

  // Applies what is pending (blocking; for `migrate` and startup). Returns how many were applied.
  int migrate();
  // Reads the applied versions and compares (awaitable; for /readyz). Throws migration_error for a newer DB.
  net::awaitable<schema_status> status();

 private:
  void acquire_lock();
  void release_lock();

  connection_pool& pool_;
  const clock& clock_;
  std::vector<migration> migrations_;
  std::string holder_;
};

}  // namespace derpmgr::controller::db
