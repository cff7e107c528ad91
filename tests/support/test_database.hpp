#pragma once

#include <memory>
#include <string>

#include "tests/support/test_env.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::test {

// A schema of its own on the test MariaDB for one test, dropped when the test ends.
class test_database {
 public:
  explicit test_database(const std::string& prefix = "t");
  ~test_database();
  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  const std::string& schema() const { return schema_; }
  // mysql://… URL for the controller's [database] url.
  std::string url() const;
  // A fresh connection to this schema (for assertions and fixtures).
  std::unique_ptr<sql::Connection> connect() const;
  // Runs one statement; for fixtures.
  void execute(const std::string& statement) const;
  // The first column of the first row of `query` as a string ("" when no row).
  std::string scalar(const std::string& query) const;

 private:
  services services_;
  std::string schema_;
};

}  // namespace derpmgr::test
