#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"
#include "shared/protocol/messages.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::auth {
class server_keys;
}

namespace derpmgr::controller::fleet {

struct node_row;

// One customer derper on one node port, as stored (the private key stays sealed here).
struct allocation_row {
  std::uint64_t id = 0;
  std::optional<std::uint64_t> rental_id;
  std::uint64_t node_id = 0;
  int port = 0;
  std::uint64_t config_version = 1;
  std::string public_host;
  std::string cert_pem;
  std::string cert_pin;
  time_point cert_expires_at{};
  std::string state;  // reserved, running, stopped, released
  std::string observed_state;
  std::string observed_error;
  std::optional<std::uint64_t> observed_config_version;
  std::optional<time_point> observed_at;
  std::vector<std::string> allowed_keys;
  time_point created_at{};
  std::optional<time_point> released_at;  // set once the port is free again
  std::optional<std::uint64_t> replaced_by;  // being moved: released once this replacement runs
};

// What creating an allocation by hand asks for.
struct allocation_request {
  std::uint64_t node_id = 0;
  std::optional<int> port;  // none: the lowest free port in the node's range
  std::vector<std::string> allowed_keys;
  std::optional<std::uint64_t> rental_id;
};

// Why an allocation could not be made.
class allocation_error : public std::runtime_error {
 public:
  allocation_error(int status, std::string code, const std::string& message, std::string field = {})
      : std::runtime_error(message), status_(status), code_(std::move(code)), field_(std::move(field)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }

 private:
  int status_;
  std::string code_;
  std::string field_;
};

// The container settings every allocation gets from the controller's configuration.
struct container_profile {
  std::string image;
  std::int64_t memory_bytes = 0;
  std::int64_t pids_limit = 0;
};

// SQL for allocations and the desired state they make. Every method runs inside the caller's unit of work.
class allocation_repository {
 public:
  // Container certificates outlive a config version: lifetime + rotation lead + overlap + 7 days (DESIGN §4).
  static constexpr std::chrono::hours certificate_lifetime{24 * (32 + 3 + 3 + 7)};

  // Places an allocation on the (locked, live) node: checks the port range and capacity, mints the container
  // certificate for the node's public address, and bumps the node's generation. Throws allocation_error.
  static allocation_row create(sql::Connection& conn, const auth::server_keys& keys, const node_row& node,
                               const allocation_request& request, time_point now);
  // Releases the allocation: it leaves its node's desired state (the generation grows) and its port is freed once the
  // agent reports having converged past that generation, i.e. the container is gone (at once on a node that was never
  // enrolled or is deleted). False when it was not live or already released.
  static bool release(sql::Connection& conn, std::uint64_t id, time_point now);
  // Starts moving a running allocation to `target`: a replacement with a new port and certificate (same rental,
  // same keys) is created there and the old one is marked replaced by it, to be released once the replacement runs.
  // Throws allocation_error (404 unknown, 409 when it cannot move there).
  static allocation_row move(sql::Connection& conn, const auth::server_keys& keys, std::uint64_t id,
                             const node_row& target, std::optional<int> port, time_point now);
  // Replaces the admitted node keys (no container restart) and bumps the node's generation.
  static bool set_keys(sql::Connection& conn, std::uint64_t id, const std::vector<std::string>& keys,
                       time_point now);
  // Moves a rental's live allocations in state `from` to `to` (e.g. running → reserved at expiry) and bumps the
  // generation of every node concerned, so their agents start or remove the containers.
  static void set_rental_state(sql::Connection& conn, std::uint64_t rental_id, const std::string& from,
                               const std::string& to, time_point now);
  static std::optional<allocation_row> by_id(sql::Connection& conn, std::uint64_t id);
  // Live allocations (port not yet freed, including released ones awaiting their agent), narrowed to one node, one
  // rental and one state when those are given.
  static std::vector<allocation_row> list_live(sql::Connection& conn, std::optional<std::uint64_t> node_id,
                                               std::optional<std::uint64_t> rental_id = std::nullopt,
                                               const std::string& state = {});
  // Live allocations on the node (any state), for deciding whether it can change address or be deleted.
  static std::int64_t live_count(sql::Connection& conn, std::uint64_t node_id);

  // The node's desired state at its current generation: its running allocations with their secrets.
  static protocol::desired_state desired_for(sql::Connection& conn, const auth::server_keys& keys,
                                             std::uint64_t node_id, const container_profile& profile);
  // Records what the agent reported (only for the node's own allocations) and the generation it converged to.
  static void record_status(sql::Connection& conn, std::uint64_t node_id, const protocol::status& status,
                            time_point now);
};

// True for "nodekey:" followed by 64 lowercase hex digits.
bool valid_node_key(const std::string& key);

}  // namespace derpmgr::controller::fleet
