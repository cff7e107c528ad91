#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "controller/audit/audit_details.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::audit {

// Who acted: an admin, a customer, the controller itself, or a node's agent.
enum class audit_actor { admin, customer, system, agent };

// "admin", "customer", "system" or "agent" (the stored audit_log.actor_kind).
std::string_view to_string(audit_actor actor);
// The actor named by `text`, or nullopt.
std::optional<audit_actor> parse_audit_actor(std::string_view text);

// What happened, as a caller reports it; audit_log::append() turns it into the next row of the chain.
struct audit_entry {
  audit_actor actor_kind = audit_actor::system;
  std::optional<std::uint64_t> actor_id;  // the admin, user or node id; none for the system
  std::string action;                     // dotted lower-case name, e.g. "admin.mfa.reset" (1-64 of [a-z0-9._-])
  std::string target;                     // what was acted on, e.g. "user:42" (at most 128 characters; may be empty)
  std::string ip;                         // the client address; cut to 64 characters
  std::string user_agent;                 // cut to 255 characters
  audit_details details;                  // secrets already stripped
};

// One row of audit_log as stored: every text exactly as the hash covers it.
struct audit_record {
  std::uint64_t seq = 0;
  time_point at;
  std::string actor_kind;
  std::optional<std::uint64_t> actor_id;
  std::string action;
  std::string target;
  std::string ip;
  std::string user_agent;
  std::string details;  // canonical JSON text
  std::string prev_hash;
  std::string hash;
};

// The row for the admin API: times in RFC 3339, details as a JSON object (as a string should it not parse).
boost::json::object to_json(const audit_record& record);

}  // namespace derpmgr::controller::audit
