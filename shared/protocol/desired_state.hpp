#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace derpmgr::protocol {

// One container the controller wants a node to run: a customer's derper on one port (an allocation).
// Everything the agent needs to create it and to answer its admission checks, so the agent can keep
// working from its persisted copy while the controller is away.
struct allocation_spec {
  std::int64_t id = 0;              // allocation id (container name derpmgr-<node>-<id>, label derpmgr.allocation)
  std::int64_t config_version = 0;  // bumped by the controller whenever the container must be recreated
  std::string image;                // derper image reference; the agent never pulls
  std::string bind_ip;              // address derper binds; empty = all addresses
  std::string public_host;          // -hostname: the IP literal or DNS name the certificate is for
  int port = 0;                     // TCP port for DERP/TLS and UDP port for STUN
  std::string admission_token;      // path secret of the verify URL /admit/<token>
  std::string cert_pem;             // self-signed ECDSA P-256 certificate for public_host
  std::string key_pem;              // its private key
  std::vector<std::string> allowed_keys;  // "nodekey:<64 lowercase hex>" admitted by this allocation
  std::int64_t rate_bytes_per_sec = 0;    // per-client receive cap (-rate-config); 0 = none
  std::int64_t rate_burst_bytes = 0;
  std::int64_t memory_bytes = 0;          // container memory limit; 0 = none
  std::int64_t pids_limit = 0;            // container pids limit; 0 = none

  bool operator==(const allocation_spec&) const = default;
};

// Everything a node should run at one generation. Generations only grow; a node applies a snapshot whole.
struct desired_state {
  std::int64_t node_id = 0;
  std::int64_t generation = 0;
  std::vector<allocation_spec> allocations;  // sorted by id, ids unique

  bool operator==(const desired_state&) const = default;

  const allocation_spec* find(std::int64_t allocation_id) const;
};

// Applies a delta (upserts by id, then removals) to `state`, keeping the allocations sorted by id.
void apply_delta(desired_state& state, std::int64_t generation, const std::vector<allocation_spec>& upsert,
                 const std::vector<std::int64_t>& remove);

boost::json::value to_json(const allocation_spec& spec);
boost::json::value to_json(const desired_state& state);
// Throw protocol_error naming the field on anything malformed.
allocation_spec allocation_from_json(const boost::json::value& value);
desired_state desired_state_from_json(const boost::json::value& value);

}  // namespace derpmgr::protocol
