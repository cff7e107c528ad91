#pragma once

#include <filesystem>

#include "shared/tls/certificate_authority.hpp"

namespace derpmgr::controller {
struct controller_config;
}

namespace derpmgr::controller::fleet {

// Where the internal CA lives: [agents] ca_dir, or <state dir>/ca. Replicas share the folder.
std::filesystem::path ca_directory(const controller_config& config);

// Creates ca.crt and ca.key (0600) in `dir` unless they exist; true when it made them. Never replaces a CA.
bool init_ca(const std::filesystem::path& dir);

// Loads the CA; throws std::runtime_error saying how to create one when it is missing or broken.
certificate_authority load_ca(const std::filesystem::path& dir);

}  // namespace derpmgr::controller::fleet
