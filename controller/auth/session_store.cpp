#include "controller/auth/session_store.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

#include "controller/auth/server_keys.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::auth {

namespace {

constexpr auto touch_interval = std::chrono::seconds(60);

std::unique_ptr<sql::PreparedStatement> prepare(sql::Connection& conn, const char* text) {
  return std::unique_ptr<sql::PreparedStatement>(conn.prepareStatement(text));
}

}  // namespace

const char* to_string(principal_kind kind) { return kind == principal_kind::admin ? "admin" : "customer"; }

session_store::session_store(const server_keys& keys, const clock& clk) : keys_(keys), clock_(clk) {}

std::string session_store::create(sql::Connection& conn, principal_kind kind, std::uint64_t subject, bool mfa_passed,
                                  const session_policy& policy, const std::string& ip,
                                  const std::string& user_agent) const {
  std::string token = random_hex(32);
  auto now = clock_.now();
  auto ps = prepare(conn,
                    "INSERT INTO sessions (token_hash, kind, subject_id, mfa_passed, created_at, last_seen_at, "
                    "expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ps->setString(1, keys_.token_hash(token));
  ps->setString(2, to_string(kind));
  ps->setUInt64(3, subject);
  ps->setBoolean(4, mfa_passed);
  ps->setString(5, format_sql_datetime(now));
  ps->setString(6, format_sql_datetime(now));
  ps->setString(7, format_sql_datetime(now + policy.absolute));
  ps->setString(8, ip.substr(0, 64));
  ps->setString(9, user_agent.substr(0, 255));
  ps->executeUpdate();
  return token;
}

std::optional<session_row> session_store::find(sql::Connection& conn, principal_kind kind, const std::string& token,
                                               const session_policy& policy) const {
  if (token.size() != 64) {
    return std::nullopt;
  }
  auto now = clock_.now();
  auto ps = prepare(conn,
                    "SELECT id, subject_id, mfa_passed, last_seen_at, expires_at FROM sessions "
                    "WHERE token_hash = ? AND kind = ?");
  ps->setString(1, keys_.token_hash(token));
  ps->setString(2, to_string(kind));
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  session_row row;
  row.id = rs->getUInt64(1);
  row.kind = kind;
  row.subject_id = rs->getUInt64(2);
  row.mfa_passed = rs->getBoolean(3);
  auto last_seen = parse_sql_datetime(std::string(rs->getString(4)));
  auto expires = parse_sql_datetime(std::string(rs->getString(5)));
  if (now >= expires || now - last_seen >= policy.idle) {
    revoke(conn, row.id);
    return std::nullopt;
  }
  if (now - last_seen >= touch_interval) {
    auto touch = prepare(conn, "UPDATE sessions SET last_seen_at = ? WHERE id = ?");
    touch->setString(1, format_sql_datetime(now));
    touch->setUInt64(2, row.id);
    touch->executeUpdate();
  }
  return row;
}

void session_store::revoke(sql::Connection& conn, std::uint64_t session_id) const {
  auto ps = prepare(conn, "DELETE FROM sessions WHERE id = ?");
  ps->setUInt64(1, session_id);
  ps->executeUpdate();
}

void session_store::revoke_all(sql::Connection& conn, principal_kind kind, std::uint64_t subject,
                               std::uint64_t keep) const {
  auto ps = prepare(conn, "DELETE FROM sessions WHERE kind = ? AND subject_id = ? AND id <> ?");
  ps->setString(1, to_string(kind));
  ps->setUInt64(2, subject);
  ps->setUInt64(3, keep);
  ps->executeUpdate();
}

}  // namespace derpmgr::controller::auth
