#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::fleet {

// What an admin sets about a DERP host (DESIGN §4 nodes).
struct node_settings {
  std::string name;
  std::string region;
  std::string public_ipv4;  // empty: none
  std::string public_ipv6;
  std::string dns_name;
  std::string bind_ip;      // empty: all addresses
  std::int64_t port_min = 40000;
  std::int64_t port_max = 40999;
  std::int64_t capacity = 100;
  std::int64_t bandwidth_mbps = 0;
  std::uint64_t monthly_traffic_cap_bytes = 0;  // 0: none
  std::int64_t traffic_reset_day = 1;
  std::string provider;
  std::int64_t monthly_cost_cents = 0;
  std::string paid_until;  // YYYY-MM-DD or empty

  // What customers dial and the container certificates name: the DNS name, else IPv4, else IPv6.
  const std::string& public_host() const;
};

// A stored node with what its agent last reported.
struct node_row {
  std::uint64_t id = 0;
  node_settings settings;
  bool draining = false;
  std::optional<time_point> enrolled_at;
  std::string cert_serial;
  std::optional<time_point> cert_expires_at;
  std::uint64_t desired_generation = 0;
  std::uint64_t applied_generation = 0;
  std::string session_replica;  // empty: no live session
  std::optional<time_point> last_seen_at;
  std::string agent_version;
  std::string host_facts;  // JSON text as reported
  std::optional<double> rtt_ms;
  std::string agent_errors;  // JSON array text
  time_point created_at{};
  std::optional<time_point> delete_requested_at;  // set: deleted once its servers have moved
};

// Live allocations per node: how many are desired and how many the agent reports running.
struct allocation_counts {
  std::int64_t desired = 0;
  std::int64_t running = 0;
};

// SQL for nodes. Every method runs inside the caller's unit of work.
class node_repository {
 public:
  // nullopt when a live node has the name.
  static std::optional<std::uint64_t> insert(sql::Connection& conn, const node_settings& s, time_point now);
  // false when there is no such live node; `name_clash` set (nothing changed) when another node has the name.
  static bool update(sql::Connection& conn, std::uint64_t id, const node_settings& s, time_point now,
                     bool& name_clash);
  static std::optional<node_row> by_id(sql::Connection& conn, std::uint64_t id, bool for_update = false);
  static std::vector<node_row> list(sql::Connection& conn);
  static bool set_draining(sql::Connection& conn, std::uint64_t id, bool draining, time_point now);
  // Drains the node and marks it to be deleted once its servers have moved.
  static void request_delete(sql::Connection& conn, std::uint64_t id, time_point now);
  // Marks the node deleted and forgets its certificates (revocation); false when there was none.
  static bool soft_delete(sql::Connection& conn, std::uint64_t id, time_point now);
  // Records a newly issued agent certificate; the previous serial stays acceptable until the agent uses the new one.
  static void set_certificate(sql::Connection& conn, std::uint64_t id, const std::string& serial,
                              time_point expires_at, bool keep_previous, time_point now);
  // The node's desired state changed: its generation grows, so the replica holding its session sends a delta.
  static void bump_generation(sql::Connection& conn, std::uint64_t id, time_point now);
  static std::map<std::uint64_t, allocation_counts> allocation_counts_by_node(sql::Connection& conn);
};

}  // namespace derpmgr::controller::fleet
