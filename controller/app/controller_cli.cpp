#include "controller/app/controller_cli.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "controller/app/controller_app.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/migrations.hpp"
#include "shared/clock/clock.hpp"
#include "shared/log/logging.hpp"
#include "shared/tls/random.hpp"
#include "shared/version.hpp"

namespace derpmgr::controller {

namespace {

controller_config load(const std::string& config_file) {
  std::optional<std::filesystem::path> file;
  if (!config_file.empty()) {
    file = config_file;
  }
  auto cfg = controller_config::load(file);
  init_logging(cfg.log_level);
  return cfg;
}

int serve(const std::string& config_file) {
  auto cfg = load(config_file);
  controller_app app(cfg, std::make_shared<system_clock>());
  app.start();
  app.run_until_signal();
  return 0;
}

int migrate(const std::string& config_file) {
  auto cfg = load(config_file);
  if (cfg.database_url.empty()) {
    throw config_error("[database] url is required (or DERPMGR_DATABASE_URL)");
  }
  db::connection_pool pool(db::database_settings::parse(cfg.database_url), db::connection_pool::options{1});
  system_clock clk;
  db::migrator m(pool, clk, db::load_migrations(db::embedded_migration_files()), "migrate-" + random_hex(6));
  int applied = m.migrate();
  std::cout << "migrate: " << applied << " migration(s) applied\n";
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App cli{"derpmgr controller: state, HTTPS API, console and agent listener"};
  cli.require_subcommand(1);
  std::string config_file;
  auto* serve_cmd = cli.add_subcommand("serve", "run the controller until SIGTERM/SIGINT");
  auto* migrate_cmd = cli.add_subcommand("migrate", "apply pending database migrations and exit");
  auto* version_cmd = cli.add_subcommand("version", "print the version");
  for (auto* cmd : {serve_cmd, migrate_cmd}) {
    cmd->add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  try {
    if (version_cmd->parsed()) {
      std::cout << "derpmgr-controller " << version << "\n";
      return 0;
    }
    if (serve_cmd->parsed()) {
      return serve(config_file);
    }
    if (migrate_cmd->parsed()) {
      return migrate(config_file);
    }
  } catch (const std::exception& e) {
    std::cerr << "derpmgr-controller: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace derpmgr::controller
