#pragma once

#include <string>

namespace derpmgr::test {

// A variable exported by `scripts/services.sh env`; fails the test with a clear message when missing.
std::string require_env(const std::string& name);

// The services the integration tests run against, as exported by scripts/services.sh env.
struct services {
  std::string mysql_host;
  int mysql_port = 0;
  std::string mysql_user;
  std::string mysql_password;
  std::string docker_socket;
  std::string test_image;
  std::string derper_image;  // the derper stand-in's image (scripts/derper_image.sh)
  std::string smtp_host;
  int smtp_port = 0;
  std::string mail_dir;
  std::string run_dir;

  static services from_env();
  // mysql://user:pass@host:port/<schema>
  std::string database_url(const std::string& schema) const;
};

// A unique, short lowercase name for this test's schema or containers: <prefix>_<pid>_<counter>_<random>.
std::string unique_name(const std::string& prefix);

}  // namespace derpmgr::test
