#include "controller/audit/audit_chain.hpp"

#include <algorithm>

#include "controller/audit/audit_errors.hpp"
#include "controller/audit/utf8_text.hpp"
#include "shared/tls/hashing.hpp"

namespace derpmgr::controller::audit {

namespace {

constexpr std::size_t max_action_chars = 64;
constexpr std::size_t max_target_chars = 128;
constexpr std::size_t max_ip_chars = 64;
constexpr std::size_t max_user_agent_chars = 255;

void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

bool valid_action(std::string_view action) {
  if (action.empty() || action.size() > max_action_chars) {
    return false;
  }
  return std::all_of(action.begin(), action.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

std::string chain_text(const audit_record& record) {
  std::string out = "derpmgr-audit-v1\n";
  append_field(out, record.prev_hash);
  append_field(out, std::to_string(record.seq));
  append_field(out, format_sql_datetime(record.at));
  append_field(out, record.actor_kind);
  append_field(out, record.actor_id ? std::to_string(*record.actor_id) : std::string());
  append_field(out, record.action);
  append_field(out, record.target);
  append_field(out, record.ip);
  append_field(out, record.user_agent);
  append_field(out, record.details);
  return out;
}

std::string chain_hash(const audit_record& record) {
  return sha256_hex(chain_text(record));
}

audit_record seal(const audit_entry& entry, std::uint64_t seq, time_point at, std::string_view prev_hash) {
  if (!valid_action(entry.action)) {
    throw invalid_audit_entry("audit action '" + fit_utf8(entry.action, max_action_chars) +
                              "' is not 1-64 characters of [a-z0-9._-]");
  }
  if (!fits_utf8(entry.target, max_target_chars)) {
    throw invalid_audit_entry("audit target of " + entry.action + " is not valid UTF-8 of at most 128 characters");
  }
  audit_record record;
  record.seq = seq;
  record.at = at;
  record.actor_kind = std::string(to_string(entry.actor_kind));
  record.actor_id = entry.actor_id;
  record.action = entry.action;
  record.target = entry.target;
  record.ip = fit_utf8(entry.ip, max_ip_chars);
  record.user_agent = fit_utf8(entry.user_agent, max_user_agent_chars);
  record.details = entry.details.text();
  record.prev_hash = std::string(prev_hash);
  record.hash = chain_hash(record);
  return record;
}

}  // namespace derpmgr::controller::audit
