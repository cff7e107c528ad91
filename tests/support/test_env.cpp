#include "tests/support/test_env.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "shared/tls/random.hpp"

namespace derpmgr::test {

std::string require_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(name + " is not set: run the integration tests through `make test` (or eval \"$(" +
                             "scripts/services.sh env)\" after scripts/services.sh start)");
  }
  return v;
}

services services::from_env() {
  services s;
  s.mysql_host = require_env("DERPMGR_TEST_MYSQL_HOST");
  s.mysql_port = std::stoi(require_env("DERPMGR_TEST_MYSQL_PORT"));
  s.mysql_user = require_env("DERPMGR_TEST_MYSQL_USER");
  s.mysql_password = require_env("DERPMGR_TEST_MYSQL_PASSWORD");
  s.docker_socket = require_env("DERPMGR_TEST_DOCKER_SOCKET");
  s.test_image = require_env("DERPMGR_TEST_IMAGE");
  // Optional: a services.sh env from before the derper image existed does not export it.
  const char* derper_image = std::getenv("DERPMGR_TEST_DERPER_IMAGE");
  s.derper_image = derper_image != nullptr && *derper_image != '\0' ? derper_image : "derpmgr-test-derper:latest";
  s.smtp_host = require_env("DERPMGR_TEST_SMTP_HOST");
  s.smtp_port = std::stoi(require_env("DERPMGR_TEST_SMTP_PORT"));
  s.mail_dir = require_env("DERPMGR_TEST_MAIL_DIR");
  s.run_dir = require_env("DERPMGR_RUN_DIR");
  return s;
}

std::string services::database_url(const std::string& schema) const {
  return "mysql://" + mysql_user + ":" + mysql_password + "@" + mysql_host + ":" + std::to_string(mysql_port) + "/" +
         schema;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + random_hex(3);
}

}  // namespace derpmgr::test
