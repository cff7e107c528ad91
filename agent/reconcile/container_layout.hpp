#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/docker/container_types.hpp"
#include "shared/protocol/desired_state.hpp"

namespace derpmgr::agent {

// Label keys every container the agent creates carries (DESIGN §5).
inline constexpr const char* node_label = "derpmgr.node";
inline constexpr const char* allocation_label = "derpmgr.allocation";
inline constexpr const char* generation_label = "derpmgr.generation";

// What the agent decides around every derper container, beyond the allocation itself.
struct layout_options {
  std::filesystem::path state_dir;                          // allocations live under <state_dir>/allocations/<id>/
  std::string admission_host = "127.0.0.1";                 // where derper reaches the admission endpoint (DESIGN §5)
  std::uint16_t admission_port = 7946;                      // the port of `[admission] listen`, for -verify-client-url
  std::int64_t default_memory_bytes = 256LL * 1024 * 1024;  // when the allocation sets none
  std::int64_t default_pids_limit = 256;                    // likewise
  std::string log_max_size = "10m";
  int log_max_file = 3;
  // Put before derper's flags in the container's command. Empty for a derper image (its entrypoint is derper);
  // tests running a plain image use e.g. {"sh", "-c", "exec sleep 3600", "derper"} to keep it up.
  std::vector<std::string> command_prefix;
};

// The host files of one allocation.
struct allocation_paths {
  std::filesystem::path root;       // <state>/allocations/<id>
  std::filesystem::path certs_dir;  // root/certs, bound read-only at /certs
  std::filesystem::path data_dir;   // root/data, bound read-write at /data
  std::filesystem::path cert_file;  // certs_dir/<public_host>.crt
  std::filesystem::path key_file;   // certs_dir/<public_host>.key (0600)
  std::filesystem::path rate_file;  // certs_dir/rate.json, present only when the allocation caps bandwidth
};

// The allocation cannot be laid out (e.g. a public_host that is no safe file name).
class invalid_allocation : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// `derpmgr-<node id>-<allocation id>`.
std::string container_name(std::int64_t node_id, std::int64_t allocation_id);
// derper's `-a` value: "{bind_ip}:{port}", ":{port}" when bind_ip is empty, "[v6]:{port}" for IPv6.
std::string derper_listen_arg(const std::string& bind_ip, int port);
// derper's command-line flags for the allocation, exactly as DESIGN §5 spells them.
// `admission_host` is an IP literal (IPv6 is bracketed in the URL).
std::vector<std::string> derper_args(const protocol::allocation_spec& spec, const std::string& admission_host,
                                     std::uint16_t admission_port);
// The -rate-config file: {"PerClientRateLimitBytesPerSec":N,"PerClientRateBurstBytes":M}.
std::string rate_config_json(const protocol::allocation_spec& spec);

// Maps allocations to their files and container specs, and decides when a container no longer matches.
class container_layout {
 public:
  explicit container_layout(layout_options options);

  const layout_options& options() const { return options_; }
  std::filesystem::path allocations_dir() const;
  // Throws invalid_allocation when public_host cannot name a file or the token cannot sit in a URL path.
  allocation_paths paths(const protocol::allocation_spec& spec) const;
  // The container spec for the allocation on this node: name, labels, image, args, binds, hardening, limits.
  container_spec spec_for(std::int64_t node_id, const protocol::allocation_spec& spec) const;

  // True when the certificate folder holds exactly the allocation's certificate, key and rate config.
  bool files_match(const protocol::allocation_spec& spec) const;
  // Writes the certificate folder (cert 0644, key 0600, rate.json 0644, each atomically), removes anything else in
  // it, and makes sure the data folder exists (0700). Throws on disk errors.
  void write_files(const protocol::allocation_spec& spec) const;
  // Deletes <state>/allocations/<id> with everything in it; no error when it is not there.
  void remove_files(std::int64_t allocation_id) const;
  // The allocation ids that have a folder under allocations_dir() (folders with other names are ignored).
  std::vector<std::int64_t> allocations_on_disk() const;

 private:
  layout_options options_;
};

// True when the container as Docker reports it differs from what the agent wants: another generation label, or
// any setting the agent decides (image, args, binds, hardening, limits, logging, its own labels). Labels the image
// itself adds are ignored.
bool needs_recreate(const container_spec& actual, const container_spec& wanted);

}  // namespace derpmgr::agent
