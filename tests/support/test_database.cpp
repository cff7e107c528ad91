#include "tests/support/test_database.hpp"

#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <mutex>

namespace derpmgr::test {

namespace {

std::unique_ptr<sql::Connection> open(const services& s, const std::string& schema) {
  static std::mutex mutex;
  sql::Driver* driver = nullptr;
  {
    std::lock_guard lock(mutex);
    driver = get_driver_instance();
  }
  sql::ConnectOptionsMap opts;
  opts["hostName"] = sql::SQLString("tcp://" + s.mysql_host + ":" + std::to_string(s.mysql_port));
  opts["userName"] = sql::SQLString(s.mysql_user);
  opts["password"] = sql::SQLString(s.mysql_password);
  if (!schema.empty()) {
    opts["schema"] = sql::SQLString(schema);
  }
  opts["OPT_CONNECT_TIMEOUT"] = 5;
  return std::unique_ptr<sql::Connection>(driver->connect(opts));
}

}  // namespace

test_database::test_database(const std::string& prefix)
    : services_(services::from_env()), schema_(unique_name("derpmgr_" + prefix)) {
  auto conn = open(services_, "");
  std::unique_ptr<sql::Statement> st(conn->createStatement());
  st->execute("CREATE DATABASE `" + schema_ + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
}

test_database::~test_database() {
  try {
    auto conn = open(services_, "");
    std::unique_ptr<sql::Statement> st(conn->createStatement());
    st->execute("DROP DATABASE IF EXISTS `" + schema_ + "`");
  } catch (...) {
    // The database may be down at the end of a failing test; the schema name is unique, so a leftover is harmless.
  }
}

std::string test_database::url() const { return services_.database_url(schema_); }

std::unique_ptr<sql::Connection> test_database::connect() const { return open(services_, schema_); }

void test_database::execute(const std::string& statement) const {
  auto conn = connect();
  std::unique_ptr<sql::Statement> st(conn->createStatement());
  st->execute(statement);
}

std::string test_database::scalar(const std::string& query) const {
  auto conn = connect();
  std::unique_ptr<sql::Statement> st(conn->createStatement());
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery(query));
  if (!rs->next()) {
    return "";
  }
  return rs->getString(1);
}

}  // namespace derpmgr::test
