#include "controller/db/statements.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "controller/db/sql_errors.hpp"

namespace derpmgr::controller::db {

std::unique_ptr<sql::PreparedStatement> prepare(sql::Connection& conn, const std::string& text) {
  return std::unique_ptr<sql::PreparedStatement>(conn.prepareStatement(text));
}

std::optional<std::uint64_t> insert_returning_id(sql::Connection& conn, sql::PreparedStatement& insert) {
  try {
    insert.executeUpdate();
  } catch (const sql::SQLException& e) {
    if (is_duplicate_key(e.getErrorCode())) {
      return std::nullopt;
    }
    throw;
  }
  std::unique_ptr<sql::ResultSet> rs(prepare(conn, "SELECT LAST_INSERT_ID()")->executeQuery());
  rs->next();
  return rs->getUInt64(1);
}

std::string text_or_empty(sql::ResultSet& rs, int index) {
  return rs.isNull(index) ? std::string() : std::string(rs.getString(index));
}

std::optional<time_point> time_or_none(sql::ResultSet& rs, int index) {
  if (rs.isNull(index)) {
    return std::nullopt;
  }
  return parse_sql_datetime(std::string(rs.getString(index)));
}

}  // namespace derpmgr::controller::db
