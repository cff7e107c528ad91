#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>

#include "shared/protocol/desired_state.hpp"

namespace derpmgr::agent {

// The persisted desired state cannot be read back (unreadable file, not JSON, not a desired state).
class desired_store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The agent's copy of its desired state on disk, `<state dir>/desired.json`, so it can converge after a restart
// without the controller. The file holds the allocations' private keys: it is written 0600, atomically.
// Both methods block on the disk (save fsyncs); call them off latency-sensitive threads.
class desired_store {
 public:
  explicit desired_store(std::filesystem::path state_dir);

  // The stored state, or nullopt when none was ever saved. Throws desired_store_error naming the file and the
  // problem when the file exists but cannot be read or is not a valid desired state.
  std::optional<protocol::desired_state> load() const;
  // Replaces the stored state atomically (temp file, fsync, rename, fsync of the directory), creating the state
  // directory (0700) when missing. Throws std::runtime_error / std::filesystem::filesystem_error on failure; the
  // previous file is then left intact.
  void save(const protocol::desired_state& state) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path state_dir_;
  std::filesystem::path path_;
};

}  // namespace derpmgr::agent
