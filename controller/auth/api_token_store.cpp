#include "controller/auth/api_token_store.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <stdexcept>

#include "controller/auth/server_keys.hpp"
#include "controller/db/statements.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::auth {

namespace {

constexpr const char* token_prefix = "dmgr_";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    out += (out.empty() ? "" : " ") + s;
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto space = text.find(' ', pos);
    if (space == std::string::npos) {
      space = text.size();
    }
    if (space > pos) {
      out.push_back(text.substr(pos, space - pos));
    }
    pos = space + 1;
  }
  return out;
}

using db::prepare;

}  // namespace

api_token_store::api_token_store(const server_keys& keys, const clock& clk) : keys_(keys), clock_(clk) {}

std::pair<std::uint64_t, std::string> api_token_store::create(sql::Connection& conn, principal_kind kind,
                                                              std::uint64_t subject, const std::string& name,
                                                              const std::vector<std::string>& scopes,
                                                              time_point expires_at) const {
  std::string secret = token_prefix + random_hex(32);
  auto ps = prepare(conn,
                    "INSERT INTO api_tokens (token_hash, kind, subject_id, name, scopes, created_at, expires_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)");
  ps->setString(1, keys_.token_hash(secret));
  ps->setString(2, to_string(kind));
  ps->setUInt64(3, subject);
  ps->setString(4, name);
  ps->setString(5, join(scopes));
  ps->setString(6, format_sql_datetime(clock_.now()));
  ps->setString(7, format_sql_datetime(expires_at));
  auto id = db::insert_returning_id(conn, *ps);
  if (!id) {
    throw std::runtime_error("API token collision");  // 256 random bits: never in practice
  }
  return {*id, secret};
}

std::vector<api_token_info> api_token_store::list(sql::Connection& conn, principal_kind kind,
                                                  std::uint64_t subject) const {
  auto ps = prepare(conn,
                    "SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at FROM api_tokens "
                    "WHERE kind = ? AND subject_id = ? ORDER BY id DESC");
  ps->setString(1, to_string(kind));
  ps->setUInt64(2, subject);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<api_token_info> out;
  while (rs->next()) {
    api_token_info t;
    t.id = rs->getUInt64(1);
    t.name = rs->getString(2);
    t.scopes = split(rs->getString(3));
    t.created_at = parse_sql_datetime(std::string(rs->getString(4)));
    t.expires_at = parse_sql_datetime(std::string(rs->getString(5)));
    if (!rs->isNull(6)) {
      t.last_used_at = parse_sql_datetime(std::string(rs->getString(6)));
    }
    t.revoked = !rs->isNull(7);
    out.push_back(std::move(t));
  }
  return out;
}

bool api_token_store::revoke(sql::Connection& conn, principal_kind kind, std::uint64_t subject,
                             std::uint64_t id) const {
  auto ps = prepare(conn,
                    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND kind = ? AND subject_id = ? AND "
                    "revoked_at IS NULL");
  ps->setString(1, format_sql_datetime(clock_.now()));
  ps->setUInt64(2, id);
  ps->setString(3, to_string(kind));
  ps->setUInt64(4, subject);
  return ps->executeUpdate() == 1;
}

void api_token_store::revoke_all(sql::Connection& conn, principal_kind kind, std::uint64_t subject) const {
  auto ps = prepare(conn,
                    "UPDATE api_tokens SET revoked_at = ? WHERE kind = ? AND subject_id = ? AND revoked_at IS NULL");
  ps->setString(1, format_sql_datetime(clock_.now()));
  ps->setString(2, to_string(kind));
  ps->setUInt64(3, subject);
  ps->executeUpdate();
}

std::optional<api_token_owner> api_token_store::find(sql::Connection& conn, const std::string& secret) const {
  if (secret.rfind(token_prefix, 0) != 0 || secret.size() != 5 + 64) {
    return std::nullopt;
  }
  auto now = clock_.now();
  auto ps = prepare(conn,
                    "SELECT id, kind, subject_id, scopes, expires_at, last_used_at FROM api_tokens "
                    "WHERE token_hash = ? AND revoked_at IS NULL");
  ps->setString(1, keys_.token_hash(secret));
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  if (parse_sql_datetime(std::string(rs->getString(5))) <= now) {
    return std::nullopt;
  }
  api_token_owner owner;
  owner.id = rs->getUInt64(1);
  owner.kind = std::string(rs->getString(2)) == "admin" ? principal_kind::admin : principal_kind::customer;
  owner.subject_id = rs->getUInt64(3);
  owner.scopes = split(rs->getString(4));
  bool stale = rs->isNull(6) || now - parse_sql_datetime(std::string(rs->getString(6))) >= std::chrono::seconds(60);
  if (stale) {
    auto touch = prepare(conn, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
    touch->setString(1, format_sql_datetime(now));
    touch->setUInt64(2, owner.id);
    touch->executeUpdate();
  }
  return owner;
}

}  // namespace derpmgr::controller::auth
