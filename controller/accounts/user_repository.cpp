#include "controller/accounts/user_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "controller/db/statements.hpp"

namespace derpmgr::controller::accounts {

namespace {

using statement = std::unique_ptr<sql::PreparedStatement>;
using results = std::unique_ptr<sql::ResultSet>;

using db::prepare;

constexpr const char* user_columns =
    "SELECT id, email, password_hash, email_verified_at IS NOT NULL, locale, balance_cents, status, created_at, "
    "deleted_at FROM users ";

user_row read_user(sql::ResultSet& rs) {
  user_row u;
  u.id = rs.getUInt64(1);
  u.email = rs.isNull(2) ? "" : std::string(rs.getString(2));
  u.password_hash = rs.isNull(3) ? "" : std::string(rs.getString(3));
  u.email_verified = rs.getBoolean(4);
  u.locale = rs.getString(5);
  u.balance_cents = rs.getInt64(6);
  u.status = rs.getString(7);
  u.created_at = parse_sql_datetime(std::string(rs.getString(8)));
  if (!rs.isNull(9)) {
    u.deleted_at = parse_sql_datetime(std::string(rs.getString(9)));
  }
  return u;
}

std::optional<email_code_row> read_code(sql::ResultSet& rs) {
  if (!rs.next()) {
    return std::nullopt;
  }
  email_code_row c;
  c.id = rs.getUInt64(1);
  c.user_id = rs.getUInt64(2);
  c.code_hash = rs.getString(3);
  c.attempts = rs.getInt(4);
  c.created_at = parse_sql_datetime(std::string(rs.getString(5)));
  c.expires_at = parse_sql_datetime(std::string(rs.getString(6)));
  return c;
}

constexpr const char* code_columns =
    "SELECT id, user_id, code_hash, attempts, created_at, expires_at FROM email_codes ";

}  // namespace

std::optional<std::uint64_t> user_repository::insert(sql::Connection& conn, const std::string& email,
                                                     const std::string& password_hash, const std::string& locale,
                                                     time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO users (email, password_hash, locale, balance_cents, status, created_at) "
                    "VALUES (?, ?, ?, 0, 'active', ?)");
  ps->setString(1, email);
  ps->setString(2, password_hash);
  ps->setString(3, locale);
  ps->setString(4, format_sql_datetime(now));
  return db::insert_returning_id(conn, *ps);
}

std::optional<user_row> user_repository::by_email(sql::Connection& conn, const std::string& email, bool for_update) {
  auto ps = prepare(conn, std::string(user_columns) + "WHERE email = ?" + (for_update ? " FOR UPDATE" : ""));
  ps->setString(1, email);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return read_user(*rs);
}

std::optional<user_row> user_repository::by_id(sql::Connection& conn, std::uint64_t id, bool for_update) {
  auto ps = prepare(conn, std::string(user_columns) + "WHERE id = ?" + (for_update ? " FOR UPDATE" : ""));
  ps->setUInt64(1, id);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return read_user(*rs);
}

void user_repository::set_password(sql::Connection& conn, std::uint64_t id, const std::string& password_hash) {
  auto ps = prepare(conn, "UPDATE users SET password_hash = ? WHERE id = ?");
  ps->setString(1, password_hash);
  ps->setUInt64(2, id);
  ps->executeUpdate();
}

void user_repository::mark_verified(sql::Connection& conn, std::uint64_t id, time_point now) {
  auto ps = prepare(conn, "UPDATE users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL");
  ps->setString(1, format_sql_datetime(now));
  ps->setUInt64(2, id);
  ps->executeUpdate();
}

void user_repository::set_status(sql::Connection& conn, std::uint64_t id, const std::string& status) {
  auto ps = prepare(conn, "UPDATE users SET status = ? WHERE id = ? AND status <> 'deleted'");
  ps->setString(1, status);
  ps->setUInt64(2, id);
  ps->executeUpdate();
}

void user_repository::anonymise(sql::Connection& conn, std::uint64_t id, time_point now) {
  auto ps = prepare(conn,
                    "UPDATE users SET email = NULL, password_hash = NULL, status = 'deleted', deleted_at = ? "
                    "WHERE id = ?");
  ps->setString(1, format_sql_datetime(now));
  ps->setUInt64(2, id);
  ps->executeUpdate();
  auto codes = prepare(conn, "DELETE FROM email_codes WHERE user_id = ?");
  codes->setUInt64(1, id);
  codes->executeUpdate();
}

user_page user_repository::list(sql::Connection& conn, const std::string& status, const std::string& email_contains,
                                std::optional<std::uint64_t> before_id, int limit) {
  std::string query = std::string(user_columns) + "WHERE (? = '' OR status = ?) AND (? = '' OR email LIKE ?) " +
                      "AND id < ? ORDER BY id DESC LIMIT ?";
  auto ps = prepare(conn, query);
  ps->setString(1, status);
  ps->setString(2, status);
  ps->setString(3, email_contains);
  std::string like;
  for (char c : email_contains) {
    if (c == '%' || c == '_' || c == '\\') {
      like.push_back('\\');
    }
    like.push_back(c);
  }
  ps->setString(4, "%" + like + "%");
  ps->setUInt64(5, before_id.value_or(UINT64_MAX));
  ps->setInt(6, limit + 1);
  results rs(ps->executeQuery());
  user_page page;
  while (rs->next()) {
    page.items.push_back(read_user(*rs));
  }
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    page.next_after = page.items.back().id;
  }
  return page;
}

void email_code_repository::replace(sql::Connection& conn, std::uint64_t user_id, const std::string& purpose,
                                    const std::string& code_hash, time_point now, time_point expires_at) {
  auto close = prepare(conn, "UPDATE email_codes SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL");
  close->setString(1, format_sql_datetime(now));
  close->setUInt64(2, user_id);
  close->setString(3, purpose);
  close->executeUpdate();
  auto ps = prepare(conn,
                    "INSERT INTO email_codes (user_id, purpose, code_hash, attempts, created_at, expires_at) "
                    "VALUES (?, ?, ?, 0, ?, ?)");
  ps->setUInt64(1, user_id);
  ps->setString(2, purpose);
  ps->setString(3, code_hash);
  ps->setString(4, format_sql_datetime(now));
  ps->setString(5, format_sql_datetime(expires_at));
  ps->executeUpdate();
}

std::optional<email_code_row> email_code_repository::open_code(sql::Connection& conn, std::uint64_t user_id,
                                                               const std::string& purpose) {
  auto ps = prepare(conn, std::string(code_columns) +
                              "WHERE user_id = ? AND purpose = ? AND used_at IS NULL ORDER BY id DESC LIMIT 1 "
                              "FOR UPDATE");
  ps->setUInt64(1, user_id);
  ps->setString(2, purpose);
  results rs(ps->executeQuery());
  return read_code(*rs);
}

std::optional<email_code_row> email_code_repository::by_hash(sql::Connection& conn, const std::string& purpose,
                                                             const std::string& code_hash) {
  auto ps = prepare(conn, std::string(code_columns) +
                              "WHERE code_hash = ? AND purpose = ? AND used_at IS NULL LIMIT 1 FOR UPDATE");
  ps->setString(1, code_hash);
  ps->setString(2, purpose);
  results rs(ps->executeQuery());
  return read_code(*rs);
}

void email_code_repository::count_attempt(sql::Connection& conn, std::uint64_t id) {
  auto ps = prepare(conn, "UPDATE email_codes SET attempts = attempts + 1 WHERE id = ?");
  ps->setUInt64(1, id);
  ps->executeUpdate();
}

void email_code_repository::mark_used(sql::Connection& conn, std::uint64_t id, time_point now) {
  auto ps = prepare(conn, "UPDATE email_codes SET used_at = ? WHERE id = ? AND used_at IS NULL");
  ps->setString(1, format_sql_datetime(now));
  ps->setUInt64(2, id);
  ps->executeUpdate();
}

std::optional<time_point> email_code_repository::last_created(sql::Connection& conn, std::uint64_t user_id,
                                                              const std::string& purpose) {
  auto ps = prepare(conn, "SELECT MAX(created_at) FROM email_codes WHERE user_id = ? AND purpose = ?");
  ps->setUInt64(1, user_id);
  ps->setString(2, purpose);
  results rs(ps->executeQuery());
  if (!rs->next() || rs->isNull(1)) {
    return std::nullopt;
  }
  return parse_sql_datetime(std::string(rs->getString(1)));
}

}  // namespace derpmgr::controller::accounts
