#include "controller/commerce/plan_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "controller/db/sql_errors.hpp"
#include "controller/db/statements.hpp"

namespace derpmgr::controller::commerce {

namespace {

using statement = std::unique_ptr<sql::PreparedStatement>;
using results = std::unique_ptr<sql::ResultSet>;

using db::prepare;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    out += (out.empty() ? "" : ",") + s;
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string::npos) {
      comma = text.size();
    }
    if (comma > pos) {
      out.push_back(text.substr(pos, comma - pos));
    }
    pos = comma + 1;
  }
  return out;
}

// Binds the terms as parameters 1..10 in column order.
void bind_terms(sql::PreparedStatement& ps, const plan_terms& t) {
  ps.setString(1, t.name);
  ps.setInt64(2, t.duration_days);
  ps.setUInt64(3, t.traffic_quota_bytes);
  ps.setInt64(4, t.device_limit);
  if (t.bandwidth_mbps) {
    ps.setInt64(5, *t.bandwidth_mbps);
  } else {
    ps.setNull(5, 0);
  }
  ps.setInt64(6, t.price_cents);
  ps.setInt64(7, t.replicas);
  ps.setString(8, join(t.regions));
  ps.setBoolean(9, t.active);
}

plan_row read_plan(sql::ResultSet& rs) {
  plan_row p;
  p.id = rs.getUInt64(1);
  p.terms.name = rs.getString(2);
  p.terms.duration_days = rs.getInt64(3);
  p.terms.traffic_quota_bytes = rs.getUInt64(4);
  p.terms.device_limit = rs.getInt64(5);
  if (!rs.isNull(6)) {
    p.terms.bandwidth_mbps = rs.getInt64(6);
  }
  p.terms.price_cents = rs.getInt64(7);
  p.terms.replicas = rs.getInt64(8);
  p.terms.regions = split(rs.getString(9));
  p.terms.active = rs.getBoolean(10);
  p.created_at = parse_sql_datetime(std::string(rs.getString(11)));
  p.updated_at = parse_sql_datetime(std::string(rs.getString(12)));
  return p;
}

constexpr const char* plan_columns =
    "SELECT id, name, duration_days, traffic_quota_bytes, device_limit, bandwidth_mbps, price_cents, replicas, "
    "regions, active, created_at, updated_at FROM plans ";

}  // namespace

std::optional<std::uint64_t> plan_repository::insert(sql::Connection& conn, const plan_terms& terms, time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO plans (name, duration_days, traffic_quota_bytes, device_limit, bandwidth_mbps, "
                    "price_cents, replicas, regions, active, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  bind_terms(*ps, terms);
  ps->setString(10, format_sql_datetime(now));
  ps->setString(11, format_sql_datetime(now));
  return db::insert_returning_id(conn, *ps);
}

bool plan_repository::update(sql::Connection& conn, std::uint64_t id, const plan_terms& terms, time_point now,
                             bool& name_clash) {
  name_clash = false;
  auto ps = prepare(conn,
                    "UPDATE plans SET name = ?, duration_days = ?, traffic_quota_bytes = ?, device_limit = ?, "
                    "bandwidth_mbps = ?, price_cents = ?, replicas = ?, regions = ?, active = ?, updated_at = ? "
                    "WHERE id = ?");
  bind_terms(*ps, terms);
  ps->setString(10, format_sql_datetime(now));
  ps->setUInt64(11, id);
  try {
    ps->executeUpdate();
  } catch (const sql::SQLException& e) {
    if (db::is_duplicate_key(e.getErrorCode())) {
      name_clash = true;
      return true;
    }
    throw;
  }
  return by_id(conn, id).has_value();
}

std::optional<plan_row> plan_repository::by_id(sql::Connection& conn, std::uint64_t id) {
  auto ps = prepare(conn, std::string(plan_columns) + "WHERE id = ?");
  ps->setUInt64(1, id);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return read_plan(*rs);
}

std::vector<plan_row> plan_repository::list(sql::Connection& conn, bool active_only) {
  results rs(prepare(conn, std::string(plan_columns) + (active_only ? "WHERE active = TRUE " : "") +
                               "ORDER BY price_cents, id")
                 ->executeQuery());
  std::vector<plan_row> out;
  while (rs->next()) {
    out.push_back(read_plan(*rs));
  }
  return out;
}

}  // namespace derpmgr::controller::commerce
