#include "shared/protocol/desired_state.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <set>

#include "shared/protocol/json_fields.hpp"
#include "shared/protocol/messages.hpp"

namespace derpmgr::protocol {

namespace json = boost::json;
using namespace fields;

const allocation_spec* desired_state::find(std::int64_t allocation_id) const {
  auto it = std::lower_bound(allocations.begin(), allocations.end(), allocation_id,
                             [](const allocation_spec& a, std::int64_t id) { return a.id < id; });
  if (it == allocations.end() || it->id != allocation_id) {
    return nullptr;
  }
  return &*it;
}

void apply_delta(desired_state& state, std::int64_t generation, const std::vector<allocation_spec>& upsert,
                 const std::vector<std::int64_t>& remove) {
  for (const auto& spec : upsert) {
    auto it = std::lower_bound(state.allocations.begin(), state.allocations.end(), spec.id,
                               [](const allocation_spec& a, std::int64_t id) { return a.id < id; });
    if (it != state.allocations.end() && it->id == spec.id) {
      *it = spec;
    } else {
      state.allocations.insert(it, spec);
    }
  }
  std::set<std::int64_t> gone(remove.begin(), remove.end());
  std::erase_if(state.allocations, [&](const allocation_spec& a) { return gone.contains(a.id); });
  state.generation = generation;
}

json::value to_json(const allocation_spec& spec) {
  json::array keys;
  for (const auto& k : spec.allowed_keys) {
    keys.emplace_back(k);
  }
  return json::object{{"id", spec.id},
                      {"config_version", spec.config_version},
                      {"image", spec.image},
                      {"bind_ip", spec.bind_ip},
                      {"public_host", spec.public_host},
                      {"port", spec.port},
                      {"admission_token", spec.admission_token},
                      {"cert_pem", spec.cert_pem},
                      {"key_pem", spec.key_pem},
                      {"allowed_keys", std::move(keys)},
                      {"rate_bytes_per_sec", spec.rate_bytes_per_sec},
                      {"rate_burst_bytes", spec.rate_burst_bytes},
                      {"memory_bytes", spec.memory_bytes},
                      {"pids_limit", spec.pids_limit}};
}

json::value to_json(const desired_state& state) {
  json::array allocs;
  for (const auto& a : state.allocations) {
    allocs.push_back(to_json(a));
  }
  return json::object{{"node_id", state.node_id}, {"generation", state.generation}, {"allocations", std::move(allocs)}};
}

allocation_spec allocation_from_json(const json::value& value) {
  const auto& obj = as_object(value, "allocation");
  allocation_spec spec;
  spec.id = get_int(obj, "id");
  spec.config_version = get_int(obj, "config_version");
  spec.image = get_string(obj, "image");
  spec.bind_ip = get_string_or(obj, "bind_ip", "");
  spec.public_host = get_string(obj, "public_host");
  auto port = get_int(obj, "port");
  if (port < 1 || port > 65535) {
    throw protocol_error("field port must be 1-65535");
  }
  spec.port = static_cast<int>(port);
  spec.admission_token = get_string(obj, "admission_token");
  spec.cert_pem = get_string(obj, "cert_pem");
  spec.key_pem = get_string(obj, "key_pem");
  spec.allowed_keys = get_strings(obj, "allowed_keys");
  spec.rate_bytes_per_sec = get_int_or(obj, "rate_bytes_per_sec", 0);
  spec.rate_burst_bytes = get_int_or(obj, "rate_burst_bytes", 0);
  spec.memory_bytes = get_int_or(obj, "memory_bytes", 0);
  spec.pids_limit = get_int_or(obj, "pids_limit", 0);
  return spec;
}

desired_state desired_state_from_json(const json::value& value) {
  const auto& obj = as_object(value, "desired state");
  desired_state state;
  state.node_id = get_int(obj, "node_id");
  state.generation = get_int(obj, "generation");
  for (const auto& a : get_array(obj, "allocations")) {
    state.allocations.push_back(allocation_from_json(a));
  }
  std::sort(state.allocations.begin(), state.allocations.end(),
            [](const allocation_spec& a, const allocation_spec& b) { return a.id < b.id; });
  auto dup = std::adjacent_find(state.allocations.begin(), state.allocations.end(),
                                [](const allocation_spec& a, const allocation_spec& b) { return a.id == b.id; });
  if (dup != state.allocations.end()) {
    throw protocol_error("allocation " + std::to_string(dup->id) + " appears twice");
  }
  return state;
}

}  // namespace derpmgr::protocol
