#include "agent/app/agent_cli.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>

#include "agent/app/agent_config.hpp"
#include "agent/app/agent_runtime.hpp"
#include "agent/channel/agent_identity.hpp"
#include "agent/channel/enroll_command.hpp"
#include "agent/reconcile/desired_store.hpp"
#include "shared/clock/clock.hpp"
#include "agent/docker/engine_client.hpp"
#include "shared/log/logging.hpp"
#include "shared/version.hpp"

namespace derpmgr::agent {

namespace {

agent_config load(const std::string& config_file) {
  std::optional<std::filesystem::path> file;
  if (!config_file.empty()) {
    file = config_file;
  }
  auto cfg = agent_config::load(file);
  init_logging(cfg.log_level);
  return cfg;
}

int run(const std::string& config_file) {
  auto cfg = load(config_file);
  net::io_context ioc(1);
  auto docker = std::make_shared<engine_client>(cfg.docker_socket);
  agent_runtime runtime(ioc.get_executor(), cfg, docker);
  runtime.start();
  spdlog::info("derpmgr-agent {} running; admission on {}", version, cfg.admission_listen);
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("received signal {}, shutting down (containers keep running)", sig);
    runtime.stop();
    ioc.stop();
  });
  ioc.run();
  return 0;
}

int enroll(const std::string& config_file, const std::string& controller_url, const std::string& token) {
  auto cfg = load(config_file);
  auto node = enroll_agent(cfg.state_dir, controller_url, token);
  std::cout << "enrolled as node " << node << "; start the agent with `derpmgr-agent run`\n";
  return 0;
}

int status(const std::string& config_file) {
  auto cfg = load(config_file);
  auto identity = agent_identity::load(cfg.state_dir);
  if (!identity) {
    std::cout << "not enrolled\n";
    return 1;
  }
  auto until = std::chrono::time_point_cast<time_point::duration>(identity->not_after());
  std::cout << "node " << identity->node_id << " at " << identity->controller_url << "\n"
            << "certificate valid until " << format_rfc3339(until)
            << (identity->expired(std::chrono::system_clock::now()) ? " (EXPIRED: re-enrol)" : "") << "\n";
  if (auto desired = desired_store(cfg.state_dir).load()) {
    std::cout << "desired generation " << desired->generation << ", " << desired->allocations.size()
              << " allocation(s)\n";
  } else {
    std::cout << "no desired state yet\n";
  }
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App cli{"derpmgr agent: runs the customers' derper containers on this DERP host"};
  cli.require_subcommand(1);
  std::string config_file;
  auto* run_cmd = cli.add_subcommand("run", "run the agent until SIGTERM/SIGINT");
  auto* enroll_cmd = cli.add_subcommand("enroll", "enroll this host with a one-time token from the console");
  auto* status_cmd = cli.add_subcommand("status", "show the enrollment and the desired state");
  auto* version_cmd = cli.add_subcommand("version", "print the version");
  std::string controller_url;
  std::string token;
  enroll_cmd->add_option("--controller", controller_url, "the controller's agent URL (https://host:8444)")->required();
  enroll_cmd->add_option("--token", token, "the enrollment token")->required();
  for (auto* cmd : {run_cmd, enroll_cmd, status_cmd}) {
    cmd->add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  try {
    if (version_cmd->parsed()) {
      std::cout << "derpmgr-agent " << version << "\n";
      return 0;
    }
    if (run_cmd->parsed()) {
      return run(config_file);
    }
    if (enroll_cmd->parsed()) {
      return enroll(config_file, controller_url, token);
    }
    if (status_cmd->parsed()) {
      return status(config_file);
    }
  } catch (const std::exception& e) {
    std::cerr << "derpmgr-agent: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace derpmgr::agent
