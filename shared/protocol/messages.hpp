#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shared/protocol/desired_state.hpp"

// Agent protocol v1 (DESIGN §6): JSON text frames {"type": ...} over the mutual-TLS WebSocket.
namespace derpmgr::protocol {

inline constexpr int current_version = 1;
inline constexpr std::string_view connect_path = "/agent/v1/connect";
inline constexpr std::string_view enroll_path = "/agent/v1/enroll";

// A frame that is not valid protocol: the receiver closes the connection with this reason.
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A container the agent sees in Docker with its node label.
struct observed_container {
  std::int64_t allocation_id = 0;
  std::string state;  // Docker's state ("running", "exited", ...)
};

// Facts about the host, sent in hello.
struct host_facts {
  std::string hostname;
  std::string docker_version;
  std::string kernel;
};

// agent → controller, first frame.
struct hello {
  std::vector<int> versions{current_version};
  std::string agent_version;
  host_facts host;
  std::vector<observed_container> containers;
  std::int64_t desired_generation = 0;  // last generation the agent applied (0: none)
  std::int64_t spooled_seq = 0;         // highest spooled telemetry sequence number
};

// controller → agent, answer to hello.
struct welcome {
  int version = current_version;
  std::int64_t node_id = 0;
  int ping_interval_seconds = 15;
};

// One allocation's state as the agent's last reconciliation left it.
struct allocation_status {
  std::int64_t id = 0;
  std::int64_t config_version = 0;
  std::string state;  // "running", "starting", "error"
  std::string error;  // empty unless state == "error"

  bool operator==(const allocation_status&) const = default;
};

// agent → controller after each reconciliation that changed something (and after hello).
struct status {
  std::int64_t generation = 0;  // generation the agent converged to
  std::vector<allocation_status> allocations;
  std::vector<std::string> errors;  // node-wide problems (Docker unreachable, image missing, ...)
};

// controller → agent: apply these changes on top of base_generation. Generations may skip numbers (several
// changes can commit between two deltas); an agent whose generation is not base_generation asks for a snapshot.
struct desired_delta {
  std::int64_t base_generation = 0;
  std::int64_t generation = 0;
  std::vector<allocation_spec> upsert;
  std::vector<std::int64_t> remove;
};

// What turns `from` into `to`: changed or new allocations, and the ids that disappeared.
desired_delta diff_states(const desired_state& from, const desired_state& to);

// agent → controller: a fresh key's CSR, sent at 50–66 % of the certificate's life.
struct renew {
  std::string csr_pem;
};

// controller → agent: the renewed certificate.
struct certificate {
  std::string cert_pem;
  std::string ca_pem;
};

// POST /agent/v1/enroll body and answer.
struct enroll_request {
  std::string token;
  std::string csr_pem;
};
struct enroll_response {
  std::int64_t node_id = 0;
  std::string cert_pem;
  std::string ca_pem;
};

// A decoded frame: its type and its whole object.
struct frame {
  std::string type;
  boost::json::object body;
};

// Parses a text frame; throws protocol_error when it is not a JSON object with a string "type".
frame parse_frame(std::string_view text);

std::string encode(const hello& m);
std::string encode(const welcome& m);
std::string encode(const status& m);
std::string encode_snapshot(const desired_state& state);
std::string encode(const desired_delta& m);
std::string encode_snapshot_request();
std::string encode(const renew& m);
std::string encode(const certificate& m);
std::string encode_ack(std::int64_t seq);

// Each throws protocol_error naming the missing or malformed field.
hello hello_from(const boost::json::object& body);
welcome welcome_from(const boost::json::object& body);
status status_from(const boost::json::object& body);
desired_state snapshot_from(const boost::json::object& body);
desired_delta delta_from(const boost::json::object& body);
renew renew_from(const boost::json::object& body);
certificate certificate_from(const boost::json::object& body);

std::string encode(const enroll_request& m);
std::string encode(const enroll_response& m);
enroll_request enroll_request_from(std::string_view text);
enroll_response enroll_response_from(std::string_view text);

}  // namespace derpmgr::protocol
