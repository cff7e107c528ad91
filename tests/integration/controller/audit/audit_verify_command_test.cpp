#include "controller/audit/audit_verify_command.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "controller/app/controller_config.hpp"
#include "controller/audit/audit_errors.hpp"
#include "tests/integration/controller/audit/audit_fixture.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::controller::audit;

namespace {

controller::controller_config config_for(const std::string& url) {
  auto cfg = controller::controller_config::load(std::nullopt,
                                                 [](const std::string&) { return std::optional<std::string>{}; });
  cfg.database_url = url;
  return cfg;
}

}  // namespace

TEST_CASE("audit verify exits 0 on an intact log and 1 naming the first broken row") {
  audit_fixture f;
  f.append_steps(3);
  std::ostringstream out, err;
  CHECK(audit_verify_command(config_for(f.db.url()), out, err) == 0);
  CHECK(out.str() == "audit log intact: 3 entries\n");
  CHECK(err.str().empty());

  f.db.execute("UPDATE audit_log SET ip = '10.0.0.1' WHERE seq = 2");
  std::ostringstream out2, err2;
  CHECK(audit_verify_command(config_for(f.db.url()), out2, err2) == 1);
  CHECK(out2.str().empty());
  CHECK(err2.str() == "audit log broken at seq 2: row altered\n");
}

TEST_CASE("audit verify on an empty log, an unmigrated schema and without a database URL") {
  audit_fixture f;
  std::ostringstream out, err;
  CHECK(audit_verify_command(config_for(f.db.url()), out, err) == 0);
  CHECK(out.str() == "audit log intact: 0 entries\n");

  test_database bare("bare");
  CHECK_THROWS_WITH_AS(audit_verify_command(config_for(bare.url()), out, err),
                       doctest::Contains("derpmgr-controller migrate"), audit_log_error);
  CHECK_THROWS_AS(audit_verify_command(config_for(""), out, err), config_error);
}
