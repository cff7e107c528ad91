#include "controller/app/controller_cli.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "controller/admins/admin_routes.hpp"
#include "controller/app/controller_app.hpp"
#include "controller/audit/audit_verify_command.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/migrations.hpp"
#include "controller/fleet/ca_files.hpp"
#include "controller/fleet/node_command.hpp"
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

int admin_create(const std::string& config_file, const std::string& email, const std::string& role,
                 bool password_stdin) {
  auto cfg = load(config_file);
  std::string password;
  if (password_stdin) {
    std::getline(std::cin, password);
  } else {
    password = random_hex(12);
  }
  controller_app app(cfg, std::make_shared<system_clock>());
  app.prepare();
  admins::create_admin(app.services(), email, password, role);
  std::cout << "admin " << email << " created with role " << role << "\n";
  if (!password_stdin) {
    // Printed once to the operator's terminal, never logged.
    std::cout << "password: " << password << "\n";
  }
  std::cout << "sign in and set up two-factor authentication before anything else\n";
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
  auto* admin_cmd = cli.add_subcommand("admin", "manage admins");
  admin_cmd->require_subcommand(1);
  auto* admin_create_cmd = admin_cmd->add_subcommand("create", "create an admin (the first one bootstraps the console)");
  std::string admin_email;
  std::string admin_role = "owner";
  bool password_stdin = false;
  admin_create_cmd->add_option("--email", admin_email, "the admin's email")->required();
  admin_create_cmd->add_option("--role", admin_role, "a role name (owner, admin, operator, finance, support, auditor)");
  admin_create_cmd->add_flag("--password-stdin", password_stdin, "read the password from standard input");
  auto* ca_cmd = cli.add_subcommand("ca", "the internal CA that signs agent certificates");
  ca_cmd->require_subcommand(1);
  auto* ca_init_cmd = ca_cmd->add_subcommand("init", "create the agent CA once (does nothing when it exists)");
  auto* node_cmd = cli.add_subcommand("node", "DERP nodes");
  node_cmd->require_subcommand(1);
  auto* node_create_cmd = node_cmd->add_subcommand("create", "add a node and print its one-time enrollment token");
  std::string node_name, node_region = "default", node_ip, node_dns, node_ports;
  int node_capacity = 100;
  node_create_cmd->add_option("--name", node_name, "the node's name")->required();
  node_create_cmd->add_option("--region", node_region, "its region code");
  node_create_cmd->add_option("--public-ip", node_ip, "the address customers dial (IPv4 or IPv6)");
  node_create_cmd->add_option("--dns-name", node_dns, "or the DNS name customers dial");
  node_create_cmd->add_option("--ports", node_ports, "the port range for customers' derpers, e.g. 40000-40999")
      ->required();
  node_create_cmd->add_option("--capacity", node_capacity, "how many allocations it takes");
  auto* audit_cmd = cli.add_subcommand("audit", "the audit log");
  audit_cmd->require_subcommand(1);
  auto* audit_verify_cmd = audit_cmd->add_subcommand("verify", "check the audit hash chain; non-zero when broken");
  for (auto* cmd : {serve_cmd, migrate_cmd, admin_create_cmd, audit_verify_cmd, ca_init_cmd, node_create_cmd}) {
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
    if (admin_create_cmd->parsed()) {
      return admin_create(config_file, admin_email, admin_role, password_stdin);
    }
    if (ca_init_cmd->parsed()) {
      auto dir = fleet::ca_directory(load(config_file));
      bool made = fleet::init_ca(dir);
      std::cout << (made ? "created the agent CA in " : "the agent CA already exists in ") << dir.string() << "\n"
                << "fingerprint: " << fleet::load_ca(dir).fingerprint() << "\n";
      return 0;
    }
    if (node_create_cmd->parsed()) {
      controller_app app(load(config_file), std::make_shared<system_clock>());
      return fleet::node_create_command(app, node_name, node_region, node_ip, node_dns, node_ports, node_capacity);
    }
    if (audit_verify_cmd->parsed()) {
      return audit::audit_verify_command(load(config_file));
    }
  } catch (const std::exception& e) {
    std::cerr << "derpmgr-controller: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace derpmgr::controller
