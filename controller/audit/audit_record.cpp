#include "controller/audit/audit_record.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

namespace derpmgr::controller::audit {

namespace {

constexpr std::array<std::pair<audit_actor, std::string_view>, 4> actor_names = {{
    {audit_actor::admin, "admin"},
    {audit_actor::customer, "customer"},
    {audit_actor::system, "system"},
    {audit_actor::agent, "agent"},
}};

}  // namespace

std::string_view to_string(audit_actor actor) {
  for (const auto& [value, name] : actor_names) {
    if (value == actor) {
      return name;
    }
  }
  throw std::logic_error("unknown audit_actor value");
}

std::optional<audit_actor> parse_audit_actor(std::string_view text) {
  for (const auto& [value, name] : actor_names) {
    if (name == text) {
      return value;
    }
  }
  return std::nullopt;
}

boost::json::object to_json(const audit_record& record) {
  boost::system::error_code ec;
  auto details = boost::json::parse(record.details, ec);
  if (ec) {
    details = boost::json::string(record.details);
  }
  boost::json::object out;
  out["seq"] = record.seq;
  out["at"] = format_rfc3339(record.at);
  out["actor_kind"] = record.actor_kind;
  if (record.actor_id) {
    out["actor_id"] = *record.actor_id;
  } else {
    out["actor_id"] = nullptr;
  }
  out["action"] = record.action;
  out["target"] = record.target;
  out["ip"] = record.ip;
  out["user_agent"] = record.user_agent;
  out["details"] = std::move(details);
  out["prev_hash"] = record.prev_hash;
  out["hash"] = record.hash;
  return out;
}

}  // namespace derpmgr::controller::audit
