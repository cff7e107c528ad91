#include "tests/support/controller_fixture.hpp"

#include "controller/admins/admin_routes.hpp"
#include "controller/fleet/ca_files.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::test {

controller_fixture::controller_fixture(const std::string& prefix)
    : controller_fixture(prefix, [](controller::controller_config&) {}) {}

controller_fixture::controller_fixture(const std::string& prefix,
                                       const std::function<void(controller::controller_config&)>& adjust)
    : clk(std::make_shared<manual_clock>(system_clock().now())),
      db(prefix),
      state(std::filesystem::temp_directory_path() / ("derpmgr-state-" + random_hex(6))) {
  std::filesystem::create_directories(state);
  auto s = services::from_env();
  auto cfg = controller::controller_config::load(std::nullopt, [](const std::string&) {
    return std::optional<std::string>{};
  });
  cfg.database_url = db.url();
  cfg.http_listen = "127.0.0.1:0";
  cfg.metrics_listen = "127.0.0.1:0";
  cfg.agents_listen = "127.0.0.1:0";
  cfg.http_public_url = test_origin;
  cfg.http_trusted_proxies = {"127.0.0.1"};
  cfg.state_dir = state;
  cfg.smtp_url = "smtp://" + s.smtp_host + ":" + std::to_string(s.smtp_port);
  cfg.smtp_from = "derpmgr test <noreply@derpmgr.test>";
  cfg.agents_ca_dir = (state / "ca").string();
  adjust(cfg);
  controller::fleet::init_ca(controller::fleet::ca_directory(cfg));
  app = std::make_unique<controller::controller_app>(cfg, clk);
  app->start();
}

controller_fixture::~controller_fixture() {
  app->stop();
  app.reset();
  std::filesystem::remove_all(state);
}

std::string controller_fixture::base_url() const { return "https://127.0.0.1:" + std::to_string(app->http_port()); }

std::string controller_fixture::agents_url() const {
  return "https://127.0.0.1:" + std::to_string(app->agents_port());
}

void controller_fixture::create_admin(const std::string& email, const std::string& password, const std::string& role) {
  controller::admins::create_admin(app->services(), email, password, role);
}

}  // namespace derpmgr::test
