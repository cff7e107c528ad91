#pragma once

#include <map>
#include <optional>
#include <string>

#include "shared/config/config_loader.hpp"

namespace derpmgr::test {

// An environment for config loading made of exactly `vars` (the process's own environment is never read).
inline env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

}  // namespace derpmgr::test
