#include "shared/protocol/messages.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "shared/protocol/json_fields.hpp"

namespace derpmgr::protocol {

namespace json = boost::json;
using namespace fields;

namespace {

std::string with_type(std::string_view type, json::object body) {
  body["type"] = type;
  return json::serialize(body);
}

json::object parse_object(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec) {
    throw protocol_error(std::string(what) + " is not JSON");
  }
  return as_object(value, what);
}

}  // namespace

frame parse_frame(std::string_view text) {
  auto obj = parse_object(text, "frame");
  frame f;
  f.type = get_string(obj, "type");
  f.body = std::move(obj);
  return f;
}

std::string encode(const hello& m) {
  json::array versions;
  for (int v : m.versions) {
    versions.emplace_back(v);
  }
  json::array containers;
  for (const auto& c : m.containers) {
    containers.push_back(json::object{{"allocation_id", c.allocation_id}, {"state", c.state}});
  }
  return with_type("hello", json::object{{"versions", std::move(versions)},
                                         {"agent_version", m.agent_version},
                                         {"host",
                                          json::object{{"hostname", m.host.hostname},
                                                       {"docker_version", m.host.docker_version},
                                                       {"kernel", m.host.kernel}}},
                                         {"containers", std::move(containers)},
                                         {"desired_generation", m.desired_generation},
                                         {"spooled_seq", m.spooled_seq}});
}

hello hello_from(const json::object& body) {
  hello m;
  m.versions.clear();
  for (const auto& v : get_array(body, "versions")) {
    if (!v.is_int64()) {
      throw protocol_error("field versions must hold integers");
    }
    m.versions.push_back(static_cast<int>(v.get_int64()));
  }
  m.agent_version = get_string(body, "agent_version");
  if (const auto* host = body.if_contains("host")) {
    const auto& h = as_object(*host, "host");
    m.host.hostname = get_string_or(h, "hostname", "");
    m.host.docker_version = get_string_or(h, "docker_version", "");
    m.host.kernel = get_string_or(h, "kernel", "");
  }
  for (const auto& c : get_array_or_empty(body, "containers")) {
    const auto& o = as_object(c, "container");
    m.containers.push_back({get_int(o, "allocation_id"), get_string(o, "state")});
  }
  m.desired_generation = get_int_or(body, "desired_generation", 0);
  m.spooled_seq = get_int_or(body, "spooled_seq", 0);
  return m;
}

std::string encode(const welcome& m) {
  return with_type("welcome", json::object{{"version", m.version},
                                           {"node_id", m.node_id},
                                           {"ping_interval_seconds", m.ping_interval_seconds}});
}

welcome welcome_from(const json::object& body) {
  welcome m;
  m.version = static_cast<int>(get_int(body, "version"));
  m.node_id = get_int(body, "node_id");
  m.ping_interval_seconds = static_cast<int>(get_int_or(body, "ping_interval_seconds", 15));
  return m;
}

std::string encode(const status& m) {
  json::array allocs;
  for (const auto& a : m.allocations) {
    allocs.push_back(json::object{
        {"id", a.id}, {"config_version", a.config_version}, {"state", a.state}, {"error", a.error}});
  }
  json::array errors;
  for (const auto& e : m.errors) {
    errors.emplace_back(e);
  }
  return with_type("status", json::object{{"generation", m.generation},
                                          {"allocations", std::move(allocs)},
                                          {"errors", std::move(errors)}});
}

status status_from(const json::object& body) {
  status m;
  m.generation = get_int(body, "generation");
  for (const auto& a : get_array_or_empty(body, "allocations")) {
    const auto& o = as_object(a, "allocation status");
    m.allocations.push_back({get_int(o, "id"), get_int_or(o, "config_version", 0), get_string(o, "state"),
                             get_string_or(o, "error", "")});
  }
  m.errors = get_strings(body, "errors");
  return m;
}

std::string encode_snapshot(const desired_state& state) {
  auto value = to_json(state);
  return with_type("desired_snapshot", std::move(value.as_object()));
}

desired_state snapshot_from(const json::object& body) { return desired_state_from_json(body); }

std::string encode(const desired_delta& m) {
  json::array upsert;
  for (const auto& a : m.upsert) {
    upsert.push_back(to_json(a));
  }
  json::array remove;
  for (auto id : m.remove) {
    remove.emplace_back(id);
  }
  return with_type("desired_delta",
                   json::object{{"base_generation", m.base_generation}, {"generation", m.generation}, {"upsert", std::move(upsert)}, {"remove", std::move(remove)}});
}

desired_delta delta_from(const json::object& body) {
  desired_delta m;
  m.generation = get_int(body, "generation");
  m.base_generation = get_int_or(body, "base_generation", m.generation - 1);
  for (const auto& a : get_array_or_empty(body, "upsert")) {
    m.upsert.push_back(allocation_from_json(a));
  }
  for (const auto& v : get_array_or_empty(body, "remove")) {
    if (!v.is_int64()) {
      throw protocol_error("field remove must hold integers");
    }
    m.remove.push_back(v.get_int64());
  }
  return m;
}

desired_delta diff_states(const desired_state& from, const desired_state& to) {
  desired_delta d;
  d.base_generation = from.generation;
  d.generation = to.generation;
  for (const auto& a : to.allocations) {
    const auto* old = from.find(a.id);
    if (old == nullptr || !(*old == a)) {
      d.upsert.push_back(a);
    }
  }
  for (const auto& a : from.allocations) {
    if (to.find(a.id) == nullptr) {
      d.remove.push_back(a.id);
    }
  }
  return d;
}

std::string encode_snapshot_request() { return with_type("snapshot_request", json::object{}); }

std::string encode(const renew& m) { return with_type("renew", json::object{{"csr_pem", m.csr_pem}}); }

renew renew_from(const json::object& body) { return renew{get_string(body, "csr_pem")}; }

std::string encode(const certificate& m) {
  return with_type("certificate", json::object{{"cert_pem", m.cert_pem}, {"ca_pem", m.ca_pem}});
}

certificate certificate_from(const json::object& body) {
  return certificate{get_string(body, "cert_pem"), get_string(body, "ca_pem")};
}

std::string encode_ack(std::int64_t seq) { return with_type("ack", json::object{{"seq", seq}}); }

std::string encode(const enroll_request& m) {
  return json::serialize(json::object{{"token", m.token}, {"csr_pem", m.csr_pem}});
}

std::string encode(const enroll_response& m) {
  return json::serialize(json::object{{"node_id", m.node_id}, {"cert_pem", m.cert_pem}, {"ca_pem", m.ca_pem}});
}

enroll_request enroll_request_from(std::string_view text) {
  auto obj = parse_object(text, "enroll request");
  return enroll_request{get_string(obj, "token"), get_string(obj, "csr_pem")};
}

enroll_response enroll_response_from(std::string_view text) {
  auto obj = parse_object(text, "enroll response");
  return enroll_response{get_int(obj, "node_id"), get_string(obj, "cert_pem"), get_string(obj, "ca_pem")};
}

}  // namespace derpmgr::protocol
