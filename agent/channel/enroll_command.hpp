#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace derpmgr::agent {

// `derpmgr-agent enroll`: makes an ECDSA P-256 key here (only its CSR leaves the host), enrolls with the token over
// TLS pinned to the CA in the token, and stores key, certificate and CA under `state_dir` (mode 0600). Returns the
// node id; throws enroll_failure or std::invalid_argument with a one-line reason.
std::int64_t enroll_agent(const std::filesystem::path& state_dir, const std::string& controller_url,
                          const std::string& token);

}  // namespace derpmgr::agent
