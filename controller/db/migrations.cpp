#include "controller/db/migrations.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <thread>

#include "controller/db/connection_pool.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/hashing.hpp"

namespace derpmgr::controller::db {

namespace {

constexpr auto lock_wait_limit = std::chrono::seconds(120);
constexpr auto lock_lease = std::chrono::minutes(10);

applied_versions read_applied(sql::Connection& conn) {
  applied_versions applied;
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  try {
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery("SELECT version, checksum FROM schema_migrations"));
    while (rs->next()) {
      applied[rs->getInt(1)] = rs->getString(2);
    }
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() != 1146) {  // no such table: nothing applied yet
      throw;
    }
  }
  return applied;
}

}  // namespace

std::vector<migration> load_migrations(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<migration> out;
  for (const auto& [name, text] : files) {
    auto underscore = name.find('_');
    bool digits = underscore == 4 && std::all_of(name.begin(), name.begin() + 4, [](unsigned char c) {
                    return std::isdigit(c) != 0;
                  });
    if (!digits || name.size() < 10 || name.substr(name.size() - 4) != ".sql") {
      throw migration_error("migration file '" + name + "' is not named NNNN_name.sql");
    }
    out.push_back(migration{std::stoi(name.substr(0, 4)), name.substr(5, name.size() - 9), text, sha256_hex(text)});
  }
  std::sort(out.begin(), out.end(), [](const migration& a, const migration& b) { return a.version < b.version; });
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0 && out[i].version == out[i - 1].version) {
      throw migration_error("two migrations have version " + std::to_string(out[i].version));
    }
    if (out[i].version != static_cast<int>(i) + 1) {
      throw migration_error("migration numbering has a gap before version " + std::to_string(out[i].version));
    }
  }
  return out;
}

std::vector<migration> pending_migrations(const std::vector<migration>& known, const applied_versions& applied) {
  int latest = known.empty() ? 0 : known.back().version;
  for (const auto& [version, checksum] : applied) {
    if (version > latest) {
      throw migration_error("the database schema is at version " + std::to_string(applied.rbegin()->first) +
                            ", newer than this controller knows (" + std::to_string(latest) +
                            "): upgrade the controller");
    }
  }
  std::vector<migration> pending;
  for (const auto& m : known) {
    auto it = applied.find(m.version);
    if (it == applied.end()) {
      pending.push_back(m);
    } else if (it->second != m.checksum) {
      throw migration_error("migration " + std::to_string(m.version) + "_" + m.name +
                            " was changed after it was applied to this database");
    }
  }
  return pending;
}

std::vector<std::string> split_sql_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    auto first = current.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) {
      auto last = current.find_last_not_of(" \t\r\n");
      out.push_back(current.substr(first, last - first + 1));
    }
    current.clear();
  };
  std::size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '\'' || c == '"' || c == '`') {
      std::size_t j = i + 1;
      while (j < sql.size() && sql[j] != c) {
        j += sql[j] == '\\' ? 2 : 1;
      }
      current.append(sql.substr(i, std::min(j + 1, sql.size()) - i));
      i = j + 1;
    } else if ((c == '-' && next == '-') || c == '#') {
      auto end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && next == '*') {
      auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
      current.push_back(' ');
    } else if (c == ';') {
      flush();
      ++i;
    } else {
      current.push_back(c);
      ++i;
    }
  }
  flush();
  return out;
}

migrator::migrator(connection_pool& pool, const clock& clk, std::vector<migration> migrations, std::string holder)
    : pool_(pool), clock_(clk), migrations_(std::move(migrations)), holder_(std::move(holder)) {}

void migrator::acquire_lock() {
  auto deadline = std::chrono::steady_clock::now() + lock_wait_limit;
  for (;;) {
    bool acquired = false;
    pool_.run_blocking(
        [&](sql::Connection& conn) {
          std::unique_ptr<sql::Statement> st(conn.createStatement());
          st->execute(
              "INSERT IGNORE INTO schema_lock (id, holder, expires_at) VALUES (1, '', '1970-01-01 00:00:01')");
          std::unique_ptr<sql::PreparedStatement> ps(conn.prepareStatement(
              "UPDATE schema_lock SET holder = ?, expires_at = ? WHERE id = 1 AND (expires_at < ? OR holder = ?)"));
          auto now = clock_.now();
          ps->setString(1, holder_);
          ps->setString(2, format_sql_datetime(now + lock_lease));
          ps->setString(3, format_sql_datetime(now));
          ps->setString(4, holder_);
          acquired = ps->executeUpdate() == 1;
        },
        false);
    if (acquired) {
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw migration_error("another controller has held the migration lock for over 2 minutes");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void migrator::release_lock() {
  pool_.run_blocking(
      [&](sql::Connection& conn) {
        std::unique_ptr<sql::PreparedStatement> ps(conn.prepareStatement(
            "UPDATE schema_lock SET holder = '', expires_at = '1970-01-01 00:00:01' WHERE id = 1 AND holder = ?"));
        ps->setString(1, holder_);
        ps->executeUpdate();
      },
      false);
}

int migrator::migrate() {
  pool_.run_blocking(
      [](sql::Connection& conn) {
        std::unique_ptr<sql::Statement> st(conn.createStatement());
        st->execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT "
            "NULL, checksum CHAR(64) NOT NULL, applied_at DATETIME(6) NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = "
            "utf8mb4");
        st->execute(
            "CREATE TABLE IF NOT EXISTS schema_lock (id TINYINT NOT NULL PRIMARY KEY, holder VARCHAR(128) NOT NULL, "
            "expires_at DATETIME(6) NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4");
      },
      false);
  acquire_lock();
  int applied_count = 0;
  try {
    applied_versions applied;
    pool_.run_blocking([&](sql::Connection& conn) { applied = read_applied(conn); }, false);
    for (const auto& m : pending_migrations(migrations_, applied)) {
      spdlog::info("migrate: applying {:04d}_{}", m.version, m.name);
      pool_.run_blocking(
          [&](sql::Connection& conn) {
            std::unique_ptr<sql::Statement> st(conn.createStatement());
            for (const auto& statement : split_sql_statements(m.sql)) {
              st->execute(statement);
            }
            std::unique_ptr<sql::PreparedStatement> ps(conn.prepareStatement(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)"));
            ps->setInt(1, m.version);
            ps->setString(2, m.name);
            ps->setString(3, m.checksum);
            ps->setString(4, format_sql_datetime(clock_.now()));
            ps->executeUpdate();
          },
          false);
      ++applied_count;
    }
  } catch (...) {
    release_lock();
    throw;
  }
  release_lock();
  return applied_count;
}

net::awaitable<schema_status> migrator::status() {
  auto applied = co_await pool_.run([](sql::Connection& conn) { return read_applied(conn); });
  pending_migrations(migrations_, applied);
  schema_status s;
  s.current = applied.empty() ? 0 : applied.rbegin()->first;
  s.latest = migrations_.empty() ? 0 : migrations_.back().version;
  co_return s;
}

}  // namespace derpmgr::controller::db
