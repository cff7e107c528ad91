#pragma once

#include <string>
#include <string_view>

namespace derpmgr::controller::db {

// Where and how to reach MySQL, from `mysql://user:pass@host:port/db` or `mysql://user:pass@/db?socket=/path`.
struct database_settings {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string socket;  // unix socket path; wins over host/port when set
  std::string user;
  std::string password;
  std::string schema;

  // Throws derpmgr::config_error describing what is wrong (never echoing the password).
  static database_settings parse(std::string_view url);
  // The URL with the password masked, for logs.
  std::string redacted() const;
};

}  // namespace derpmgr::controller::db
