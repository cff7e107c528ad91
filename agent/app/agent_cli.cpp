#include "agent/app/agent_cli.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>

#include "agent/app/agent_config.hpp"
#include "agent/docker/engine_client.hpp"
#include "shared/log/logging.hpp"
#include "shared/version.hpp"

namespace derpmgr::agent {

namespace {

net::awaitable<engine_version> probe_engine(std::shared_ptr<engine_client> docker) {
  co_return co_await docker->version();
}

int run(const std::string& config_file) {
  std::optional<std::filesystem::path> file;
  if (!config_file.empty()) {
    file = config_file;
  }
  auto cfg = agent_config::load(file);
  init_logging(cfg.log_level);
  net::io_context ioc;
  auto docker = std::make_shared<engine_client>(cfg.docker_socket);
  auto probe = net::co_spawn(ioc, probe_engine(docker), net::use_future);
  ioc.run();
  auto engine = probe.get();
  spdlog::info("derpmgr-agent {}: Docker engine {} (API {}) at {}", version, engine.version, engine.api_version,
               cfg.docker_socket);
  ioc.restart();
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int sig) {
    spdlog::info("received signal {}, shutting down", sig);
  });
  ioc.run();
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App cli{"derpmgr agent: runs the customers' derper containers on this DERP host"};
  cli.require_subcommand(1);
  std::string config_file;
  auto* run_cmd = cli.add_subcommand("run", "run the agent until SIGTERM/SIGINT");
  auto* version_cmd = cli.add_subcommand("version", "print the version");
  run_cmd->add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
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
  } catch (const std::exception& e) {
    std::cerr << "derpmgr-agent: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace derpmgr::agent
