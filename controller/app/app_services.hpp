#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace sql {
class Connection;
}

#include "shared/clock/clock.hpp"

namespace derpmgr {
class certificate_authority;
}

namespace derpmgr::controller {

struct controller_config;
namespace db {
class connection_pool;
}
namespace auth {
class server_keys;
class password_hasher;
class password_policy;
class session_store;
class api_token_store;
class authenticator;
class rate_limiter;
}  // namespace auth

// One security-relevant change, for the hash-chained audit log.
struct audit_event {
  std::string actor_kind;  // admin, customer, system
  std::uint64_t actor_id = 0;
  std::string action;      // e.g. "admin.mfa.reset"
  std::string target;      // e.g. "user:42"
  std::string ip;
  std::string user_agent;
  boost::json::object details;  // secrets are stripped before storing
};

// Writes an email into the outbox inside the caller's transaction.
using mail_enqueuer = std::function<void(sql::Connection&, const std::string& recipient, const std::string& template_name,
                                         const std::string& locale, const std::map<std::string, std::string>& vars)>;
// Appends to the audit chain inside the caller's transaction.
using audit_appender = std::function<void(sql::Connection&, const audit_event&)>;

// What request handlers share: the database, the clock, keys and the security services. Owned by controller_app.
struct app_services {
  const controller_config& config;
  db::connection_pool& pool;
  const clock& clk;
  const auth::server_keys& keys;
  auth::password_hasher& hasher;
  const auth::password_policy& passwords;
  const auth::session_store& sessions;
  const auth::api_token_store& tokens;
  const auth::authenticator& authn;
  auth::rate_limiter& account_limiter;  // per account (email)
  auth::rate_limiter& ip_limiter;       // per client IP
  mail_enqueuer enqueue_mail;
  audit_appender audit;
  std::function<void()> wake_mailer;  // send promptly after a commit that enqueued mail
  const certificate_authority* agent_ca;  // null when no CA is set up (command-line tools)
  time_point started_at;                  // when this controller started (fleet liveness grace)
  // Both from any thread, after the commit: a rental may need servers now (runs the placement job soon), and a
  // node's desired state changed (this replica re-reads node generations and wakes its agent sessions).
  std::function<void()> wake_placement = [] {};
  std::function<void()> wake_fleet = [] {};
};

}  // namespace derpmgr::controller
