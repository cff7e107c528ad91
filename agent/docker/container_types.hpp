#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace derpmgr::agent {

// The Docker Engine API version every request is made in (DESIGN §1): Docker 20.10 and later accept it.
inline constexpr std::string_view docker_api_version = "1.41";

using label_map = std::map<std::string, std::string>;

// A host path mounted into a container (a Docker bind).
struct bind_mount {
  std::string source;
  std::string target;
  bool read_only = true;

  bool operator==(const bind_mount&) const = default;
};

// Everything the agent decides about a container it creates. The defaults are the hardening of DESIGN §5
// ("The derper container"); the restart policy is always "no" because the agent restarts containers itself.
struct container_spec {
  std::string name;
  std::string image;
  std::vector<std::string> args;  // Cmd: the arguments after the image's entrypoint
  label_map labels;
  std::vector<bind_mount> binds;
  std::string network_mode = "host";
  bool read_only_rootfs = true;
  std::vector<std::string> cap_drop{"ALL"};
  std::vector<std::string> security_opt{"no-new-privileges"};
  std::int64_t memory_bytes = 0;  // 0: no limit
  std::int64_t pids_limit = 0;    // 0: no limit
  std::string log_max_size = "10m";
  int log_max_file = 3;

  bool operator==(const container_spec&) const = default;
};

// The lifecycle state Docker reports for a container.
enum class container_state { created, running, paused, restarting, removing, exited, dead, unknown };

// "running", "exited", ... as Docker spells them; anything else is container_state::unknown.
container_state parse_container_state(const std::string& text);
const char* to_string(container_state state);

// One entry of a container listing.
struct container_summary {
  std::string id;
  std::string name;  // without Docker's leading '/'
  std::string image;
  container_state state = container_state::unknown;
  label_map labels;
};

// What inspecting one container tells: its runtime state and the configuration it was created with, expressed as
// a container_spec so the reconciler can compare it with what it wants and recreate on a difference.
struct container_details {
  std::string id;
  std::string name;  // without Docker's leading '/'
  container_state state = container_state::unknown;
  int exit_code = 0;
  bool oom_killed = false;
  std::string started_at;   // RFC 3339 as Docker writes it; "0001-01-01T00:00:00Z" when never started
  std::string finished_at;  // likewise
  container_spec config;
};

// The engine's answer to GET /version.
struct engine_version {
  std::string version;          // e.g. "20.10.24"
  std::string api_version;      // highest API version it speaks, e.g. "1.41"
  std::string min_api_version;  // lowest API version it still accepts

  // True when the engine accepts docker_api_version.
  bool supports_pinned_api() const;
};

}  // namespace derpmgr::agent
