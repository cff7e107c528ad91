#include "controller/app/controller_app.hpp"
#include "controller/fleet/ca_files.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <thread>

#include "controller/db/migrations.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/router.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/random.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_database.hpp"

using namespace derpmgr;
using namespace derpmgr::test;

namespace {

std::filesystem::path temp_state_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("derpmgr-state-" + random_hex(6));
  std::filesystem::create_directories(dir);
  return dir;
}

controller::controller_config config_for(const test_database& db, const std::filesystem::path& state) {
  auto cfg = controller::controller_config::load(std::nullopt, [](const std::string&) {
    return std::optional<std::string>{};
  });
  cfg.database_url = db.url();
  cfg.http_listen = "127.0.0.1:0";
  cfg.metrics_listen = "127.0.0.1:0";
  cfg.agents_listen = "127.0.0.1:0";
  cfg.state_dir = state;
  cfg.http_body_limit = 4096;
  controller::fleet::init_ca(controller::fleet::ca_directory(cfg));
  cfg.log_level = "warn";
  return cfg;
}

// A controller running in-process on its own schema and ports, with an echo route that parses JSON bodies.
struct running_controller {
  test_database db{"ctl"};
  std::filesystem::path state = temp_state_dir();
  controller::controller_app app{config_for(db, state), std::make_shared<system_clock>()};

  running_controller() {
    app.routes().add("POST", "/test/echo", [](controller::http::request& req)
                                               -> net::awaitable<controller::http::response> {
      auto body = controller::http::parse_json_object(req);
      auto name = controller::http::require_string(body, "name", 16);
      co_return controller::http::response::json(200, boost::json::serialize(boost::json::object{{"name", name}}));
    });
    app.start();
  }
  ~running_controller() {
    app.stop();
    std::filesystem::remove_all(state);
  }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(app.http_port()) + path;
  }
};

boost::json::object json_of(const http_result& r) { return boost::json::parse(r.body).as_object(); }

std::string services_script() { return std::string(DERPMGR_SOURCE_DIR) + "/scripts/services.sh"; }

}  // namespace

TEST_CASE("the controller migrates a fresh schema and reports ready over HTTPS") {
  running_controller c;
  auto ready = get(c.url("/readyz"));
  REQUIRE(ready.error.empty());
  CHECK(ready.status == 200);
  CHECK(json_of(ready).at("status") == "ready");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM schema_migrations") ==
        std::to_string(controller::db::load_migrations(controller::db::embedded_migration_files()).size()));
  CHECK(c.db.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
                    "table_name = 'job_leases'") == "1");
  auto health = get(c.url("/healthz"));
  CHECK(health.status == 200);
  CHECK_FALSE(health.headers["x-request-id"].empty());
}

TEST_CASE("malformed JSON, oversized bodies and unknown routes get JSON errors") {
  running_controller c;
  auto ok = post_json(c.url("/test/echo"), R"({"name":"derp"})");
  CHECK(ok.status == 200);
  CHECK(json_of(ok).at("name") == "derp");

  auto malformed = post_json(c.url("/test/echo"), R"({"name": )");
  CHECK(malformed.status == 400);
  CHECK(json_of(malformed).at("error").at("code") == "invalid_json");

  auto missing = post_json(c.url("/test/echo"), R"({"other": 1})");
  CHECK(missing.status == 400);
  CHECK(json_of(missing).at("error").at("field") == "name");

  auto too_long = post_json(c.url("/test/echo"), R"({"name":"01234567890123456789"})");
  CHECK(too_long.status == 400);
  CHECK(json_of(too_long).at("error").at("field") == "name");

  auto oversized = post_json(c.url("/test/echo"), R"({"name":")" + std::string(10000, 'x') + "\"}");
  CHECK(oversized.status == 413);
  CHECK(json_of(oversized).at("error").at("code") == "body_too_large");

  auto wrong_type = fetch(http_request{"POST", c.url("/test/echo"), "name=x", {"Content-Type: text/plain"}});
  CHECK(wrong_type.status == 415);

  auto nothing = get(c.url("/api/v1/nothing-here"));
  CHECK(nothing.status == 404);
  CHECK(json_of(nothing).at("error").at("code") == "not_found");

  auto method = fetch(http_request{"DELETE", c.url("/readyz")});
  CHECK(method.status == 405);
  CHECK(method.headers["allow"] == "GET");

  // The server is still healthy after all of that.
  CHECK(get(c.url("/healthz")).status == 200);
}

TEST_CASE("metrics count requests by route and status and expose pool gauges") {
  running_controller c;
  get(c.url("/healthz"));
  get(c.url("/nope"));
  auto metrics = get("http://127.0.0.1:" + std::to_string(c.app.metrics_port()) + "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find(R"(derpmgr_http_requests_total{route="/healthz",method="GET",status="200"} 1)") !=
        std::string::npos);
  CHECK(metrics.body.find(R"(derpmgr_http_requests_total{route="unmatched",method="GET",status="404"} 1)") !=
        std::string::npos);
  CHECK(metrics.body.find("derpmgr_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1") !=
        std::string::npos);
  CHECK(metrics.body.find("derpmgr_db_pool_threads 4") != std::string::npos);
}

TEST_CASE("readyz turns 503 while the database is down and recovers without a restart") {
  running_controller c;
  REQUIRE(get(c.url("/readyz")).status == 200);
  auto stopped = run_command(shell_quote(services_script()) + " mysql-stop");
  REQUIRE_MESSAGE(stopped.exit_code == 0, stopped.output);
  auto down = get(c.url("/readyz"));
  auto started = run_command(shell_quote(services_script()) + " mysql-start");
  REQUIRE_MESSAGE(started.exit_code == 0, started.output);
  CHECK(down.status == 503);
  CHECK(json_of(down).at("error").at("code") == "not_ready");
  CHECK(json_of(down).at("error").at("message").as_string().find("database") != std::string::npos);
  CHECK(get(c.url("/healthz")).status == 200);

  long status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    status = get(c.url("/readyz")).status;
    if (status != 200) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  CHECK(status == 200);
}

TEST_CASE("a database newer than the controller is refused") {
  running_controller c;
  c.db.execute("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', '', "
               "'2026-01-01 00:00:00')");
  auto ready = get(c.url("/readyz"));
  CHECK(ready.status == 503);
  CHECK(json_of(ready).at("error").at("message").as_string().find("newer") != std::string::npos);

  auto cli = run_command("DERPMGR_DATABASE_URL=" + shell_quote(c.db.url()) + " " +
                         shell_quote(DERPMGR_CONTROLLER_BIN) + " migrate");
  CHECK(cli.exit_code != 0);
  CHECK(cli.output.find("newer than this controller") != std::string::npos);
}

TEST_CASE("two controllers migrating one schema at once apply each migration exactly once") {
  test_database db("race");
  auto command = "DERPMGR_DATABASE_URL=" + shell_quote(db.url()) + " " + shell_quote(DERPMGR_CONTROLLER_BIN) +
                 " migrate";
  command_result a, b;
  std::thread ta([&] { a = run_command(command); });
  std::thread tb([&] { b = run_command(command); });
  ta.join();
  tb.join();
  CHECK_MESSAGE(a.exit_code == 0, a.output);
  CHECK_MESSAGE(b.exit_code == 0, b.output);
  auto expected = controller::db::load_migrations(controller::db::embedded_migration_files()).size();
  CHECK(db.scalar("SELECT COUNT(*) FROM schema_migrations") == std::to_string(expected));
  // One of them applied everything, the other found nothing to do.
  bool split = (a.output.find("migrate: " + std::to_string(expected) + " migration(s) applied") != std::string::npos &&
                b.output.find("migrate: 0 migration(s) applied") != std::string::npos) ||
               (b.output.find("migrate: " + std::to_string(expected) + " migration(s) applied") != std::string::npos &&
                a.output.find("migrate: 0 migration(s) applied") != std::string::npos);
  std::string both = a.output + "\n---\n" + b.output;
  CHECK_MESSAGE(split, both);
}

TEST_CASE("the command line reports configuration errors in one line and a non-zero exit") {
  auto dir = temp_state_dir();
  auto file = dir / "controller.toml";
  { std::ofstream(file) << "[http]\nlissten = \":8443\"\n"; }
  auto bad_key = run_command(shell_quote(DERPMGR_CONTROLLER_BIN) + " migrate --config " + shell_quote(file.string()));
  CHECK(bad_key.exit_code != 0);
  CHECK(bad_key.output.find("unknown configuration key [http] lissten") != std::string::npos);

  auto no_db = run_command("env -u DERPMGR_DATABASE_URL " + shell_quote(DERPMGR_CONTROLLER_BIN) + " migrate");
  CHECK(no_db.exit_code != 0);
  CHECK(no_db.output.find("[database] url is required") != std::string::npos);

  auto version = run_command(shell_quote(DERPMGR_CONTROLLER_BIN) + " version");
  CHECK(version.exit_code == 0);
  CHECK(version.output.find("derpmgr-controller ") == 0);
  std::filesystem::remove_all(dir);
}
