#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace derpmgr::agent {

// Who this agent is to the controller: its node id, where the controller is, its key and certificate, and the
// internal CA it trusts. Stored under the state dir, every file mode 0600.
struct agent_identity {
  std::int64_t node_id = 0;
  std::string controller_url;
  std::string key_pem;
  std::string cert_pem;
  std::string ca_pem;

  // nullopt when the agent has not enrolled; throws std::runtime_error when the files are damaged.
  static std::optional<agent_identity> load(const std::filesystem::path& state_dir);
  // Writes every file atomically; the key and certificate share one file so they never disagree.
  void save(const std::filesystem::path& state_dir) const;

  std::chrono::system_clock::time_point not_before() const;
  std::chrono::system_clock::time_point not_after() const;
  bool expired(std::chrono::system_clock::time_point now) const { return now >= not_after(); }
};

}  // namespace derpmgr::agent
