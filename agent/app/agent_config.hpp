#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "shared/config/config_loader.hpp"

namespace derpmgr::agent {

// The agent's settings (DESIGN §7), resolved from defaults, the TOML file and DERPMGR_* variables.
struct agent_config {
  std::string controller_url;
  std::filesystem::path state_dir;
  std::string docker_socket;
  std::string admission_listen;
  std::string log_level;

  // Throws config_error naming the offending key.
  static agent_config load(const std::optional<std::filesystem::path>& file, const env_lookup& env = process_env);
};

}  // namespace derpmgr::agent
