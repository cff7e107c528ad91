#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "shared/config/config_loader.hpp"

namespace derpmgr::agent {

// The agent's settings (DESIGN §7), resolved from defaults, the TOML file and DERPMGR_* variables.
struct agent_config {
  std::string controller_url;
  std::chrono::seconds ping_interval{15};  // the channel pings the controller this often
  std::chrono::seconds silence_limit{45};  // and reconnects when nothing, not even a pong, came for this long
  std::filesystem::path state_dir;
  std::string docker_socket;
  std::string admission_listen;
  std::string log_level;

  // Throws config_error naming the offending key.
  static agent_config load(const std::optional<std::filesystem::path>& file, const env_lookup& env = process_env);
};

}  // namespace derpmgr::agent
