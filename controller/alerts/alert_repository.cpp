#include "controller/alerts/alert_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "controller/db/statements.hpp"

namespace derpmgr::controller::alerts {

namespace {

using db::prepare;
using db::time_or_none;
using results = std::unique_ptr<sql::ResultSet>;

constexpr const char* columns =
    "id, kind, subject_type, subject_id, severity, message, raised_at, resolved_at, acknowledged_at, "
    "acknowledged_by";

alert_row read_alert(sql::ResultSet& rs) {
  alert_row a;
  a.id = rs.getUInt64(1);
  a.key.kind = rs.getString(2);
  a.key.subject_type = rs.getString(3);
  a.key.subject_id = rs.getUInt64(4);
  a.severity = rs.getString(5);
  a.message = rs.getString(6);
  a.raised_at = parse_sql_datetime(std::string(rs.getString(7)));
  a.resolved_at = time_or_none(rs, 8);
  a.acknowledged_at = time_or_none(rs, 9);
  if (!rs.isNull(10)) {
    a.acknowledged_by = rs.getUInt64(10);
  }
  return a;
}

}  // namespace

std::optional<std::uint64_t> alert_repository::raise(sql::Connection& conn, const new_alert& alert, time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO alerts (kind, severity, subject_type, subject_id, message, raised_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)");
  ps->setString(1, alert.key.kind);
  ps->setString(2, alert.severity);
  ps->setString(3, alert.key.subject_type);
  ps->setUInt64(4, alert.key.subject_id);
  ps->setString(5, alert.message.substr(0, 255));
  ps->setString(6, format_sql_datetime(now));
  return db::insert_returning_id(conn, *ps);
}

bool alert_repository::resolve(sql::Connection& conn, const alert_key& key, time_point now) {
  auto ps =
      prepare(conn, "UPDATE alerts SET resolved_at = ? WHERE open_kind = ? AND subject_type = ? AND subject_id = ?");
  ps->setString(1, format_sql_datetime(now));
  ps->setString(2, key.kind);
  ps->setString(3, key.subject_type);
  ps->setUInt64(4, key.subject_id);
  return ps->executeUpdate() > 0;
}

bool alert_repository::resolved_since(sql::Connection& conn, const alert_key& key, time_point since) {
  auto ps = prepare(conn,
                    "SELECT 1 FROM alerts WHERE subject_type = ? AND subject_id = ? AND kind = ? AND resolved_at >= ? "
                    "LIMIT 1");
  ps->setString(1, key.subject_type);
  ps->setUInt64(2, key.subject_id);
  ps->setString(3, key.kind);
  ps->setString(4, format_sql_datetime(since));
  results rs(ps->executeQuery());
  return rs->next();
}

std::set<std::uint64_t> alert_repository::open_subjects(sql::Connection& conn, const std::string& kind,
                                                        const std::string& subject_type) {
  auto ps = prepare(conn, "SELECT subject_id FROM alerts WHERE open_kind = ? AND subject_type = ?");
  ps->setString(1, kind);
  ps->setString(2, subject_type);
  results rs(ps->executeQuery());
  std::set<std::uint64_t> out;
  while (rs->next()) {
    out.insert(rs->getUInt64(1));
  }
  return out;
}

std::vector<alert_row> alert_repository::list(sql::Connection& conn, const alert_filter& filter) {
  std::string sql = std::string("SELECT ") + columns + " FROM alerts WHERE id < ?";
  if (filter.open) {
    sql += *filter.open ? " AND resolved_at IS NULL" : " AND resolved_at IS NOT NULL";
  }
  if (!filter.kind.empty()) {
    sql += " AND kind = ?";
  }
  sql += " ORDER BY id DESC LIMIT ?";
  auto ps = prepare(conn, sql);
  int i = 1;
  ps->setUInt64(i++, filter.before_id.value_or(UINT64_MAX));
  if (!filter.kind.empty()) {
    ps->setString(i++, filter.kind);
  }
  ps->setInt(i, filter.limit);
  results rs(ps->executeQuery());
  std::vector<alert_row> out;
  while (rs->next()) {
    out.push_back(read_alert(*rs));
  }
  return out;
}

std::optional<alert_row> alert_repository::by_id(sql::Connection& conn, std::uint64_t id, bool for_update) {
  auto ps =
      prepare(conn, std::string("SELECT ") + columns + " FROM alerts WHERE id = ?" + (for_update ? " FOR UPDATE" : ""));
  ps->setUInt64(1, id);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return read_alert(*rs);
}

bool alert_repository::acknowledge(sql::Connection& conn, std::uint64_t id, std::uint64_t admin, time_point now) {
  auto ps = prepare(conn,
                    "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND "
                    "acknowledged_at IS NULL");
  ps->setString(1, format_sql_datetime(now));
  ps->setUInt64(2, admin);
  ps->setUInt64(3, id);
  return ps->executeUpdate() == 1;
}

}  // namespace derpmgr::controller::alerts
