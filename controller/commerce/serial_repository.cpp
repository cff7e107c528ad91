#include "controller/commerce/serial_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "controller/db/statements.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::commerce {

namespace {

using db::prepare;
using results = std::unique_ptr<sql::ResultSet>;

void set_optional_time(sql::PreparedStatement& ps, int index, const std::optional<time_point>& t) {
  if (t) {
    ps.setString(index, format_sql_datetime(*t));
  } else {
    ps.setNull(index, 0);
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    out += (out.empty() ? "" : ",") + s;
  }
  return out;
}

}  // namespace

std::uint64_t serial_repository::insert_batch(sql::Connection& conn, std::uint64_t plan_id, std::int64_t price_cents,
                                              int count, const std::string& note, const std::string& channel,
                                              std::optional<time_point> expires_at, std::uint64_t created_by,
                                              time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO serial_batches (plan_id, price_cents, code_count, note, channel, expires_at, "
                    "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  ps->setUInt64(1, plan_id);
  ps->setInt64(2, price_cents);
  ps->setInt(3, count);
  ps->setString(4, note);
  ps->setString(5, channel);
  set_optional_time(*ps, 6, expires_at);
  ps->setUInt64(7, created_by);
  ps->setString(8, format_sql_datetime(now));
  return *db::insert_returning_id(conn, *ps);
}

void serial_repository::insert_serial(sql::Connection& conn, std::uint64_t batch_id, const std::string& lookup_hash,
                                      const std::string& code_sealed, const std::string& last_four,
                                      std::optional<time_point> expires_at, time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO serials (batch_id, lookup_hash, code_sealed, last_four, status, expires_at, "
                    "created_at) VALUES (?, ?, ?, ?, 'unused', ?, ?)");
  ps->setUInt64(1, batch_id);
  ps->setString(2, lookup_hash);
  ps->setString(3, code_sealed);
  ps->setString(4, last_four);
  set_optional_time(*ps, 5, expires_at);
  ps->setString(6, format_sql_datetime(now));
  ps->executeUpdate();
}

std::optional<serial_row> serial_repository::by_lookup(sql::Connection& conn, const std::string& lookup_hash) {
  auto ps = prepare(conn,
                    "SELECT s.id, s.batch_id, b.plan_id, b.price_cents, s.status, s.expires_at FROM serials s "
                    "JOIN serial_batches b ON b.id = s.batch_id WHERE s.lookup_hash = ?");
  ps->setString(1, lookup_hash);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  serial_row r;
  r.id = rs->getUInt64(1);
  r.batch_id = rs->getUInt64(2);
  r.plan_id = rs->getUInt64(3);
  r.price_cents = rs->getInt64(4);
  r.status = rs->getString(5);
  if (!rs->isNull(6)) {
    r.expires_at = parse_sql_datetime(std::string(rs->getString(6)));
  }
  return r;
}

bool serial_repository::claim(sql::Connection& conn, std::uint64_t serial_id, std::uint64_t user_id, time_point now) {
  auto ps = prepare(conn,
                    "UPDATE serials SET status = 'redeemed', redeemed_by = ?, redeemed_at = ? WHERE id = ? AND "
                    "status = 'unused' AND (expires_at IS NULL OR expires_at > ?)");
  ps->setUInt64(1, user_id);
  ps->setString(2, format_sql_datetime(now));
  ps->setUInt64(3, serial_id);
  ps->setString(4, format_sql_datetime(now));
  return ps->executeUpdate() == 1;
}

int serial_repository::revoke_batch(sql::Connection& conn, std::uint64_t batch_id) {
  auto ps = prepare(conn, "UPDATE serials SET status = 'revoked' WHERE batch_id = ? AND status = 'unused'");
  ps->setUInt64(1, batch_id);
  return ps->executeUpdate();
}

std::optional<std::string> serial_repository::revoke_one(sql::Connection& conn, std::uint64_t serial_id) {
  auto ps = prepare(conn, "SELECT status FROM serials WHERE id = ? FOR UPDATE");
  ps->setUInt64(1, serial_id);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  std::string status = rs->getString(1);
  if (status == "unused") {
    auto revoke = prepare(conn, "UPDATE serials SET status = 'revoked' WHERE id = ? AND status = 'unused'");
    revoke->setUInt64(1, serial_id);
    revoke->executeUpdate();
  }
  return status;
}

namespace {

std::optional<time_point> optional_time(sql::ResultSet& rs, int column) {
  if (rs.isNull(column)) {
    return std::nullopt;
  }
  return parse_sql_datetime(std::string(rs.getString(column)));
}

}  // namespace

std::vector<serial_list_row> serial_repository::list(sql::Connection& conn, const serial_filter& f, time_point now) {
  // "expired" is derived: unused codes past their expiry.
  auto ps = prepare(conn,
                    "SELECT s.id, s.batch_id, b.plan_id, s.last_four, s.status, s.redeemed_by, s.redeemed_at, "
                    "s.expires_at, s.status = 'unused' AND s.expires_at IS NOT NULL AND s.expires_at <= ? "
                    "FROM serials s JOIN serial_batches b ON b.id = s.batch_id WHERE (? = 0 OR s.batch_id = ?) "
                    "AND (? = 0 OR b.plan_id = ?) AND (? = 0 OR s.redeemed_by = ?) AND s.id < ? "
                    "AND (? = '' OR (? = 'expired' AND s.status = 'unused' AND s.expires_at <= ?) "
                    "OR (? = 'unused' AND s.status = 'unused' AND (s.expires_at IS NULL OR s.expires_at > ?)) "
                    "OR (? NOT IN ('expired', 'unused') AND s.status = ?)) ORDER BY s.id DESC LIMIT ?");
  auto when = format_sql_datetime(now);
  int i = 0;
  ps->setString(++i, when);
  ps->setUInt64(++i, f.batch_id);
  ps->setUInt64(++i, f.batch_id);
  ps->setUInt64(++i, f.plan_id);
  ps->setUInt64(++i, f.plan_id);
  ps->setUInt64(++i, f.redeemed_by);
  ps->setUInt64(++i, f.redeemed_by);
  ps->setUInt64(++i, f.before_id);
  ps->setString(++i, f.status);
  ps->setString(++i, f.status);
  ps->setString(++i, when);
  ps->setString(++i, f.status);
  ps->setString(++i, when);
  ps->setString(++i, f.status);
  ps->setString(++i, f.status);
  ps->setInt(++i, f.limit + 1);
  results rs(ps->executeQuery());
  std::vector<serial_list_row> out;
  while (rs->next()) {
    serial_list_row r;
    r.id = rs->getUInt64(1);
    r.batch_id = rs->getUInt64(2);
    r.plan_id = rs->getUInt64(3);
    r.last_four = rs->getString(4);
    r.status = rs->getBoolean(9) ? "expired" : std::string(rs->getString(5));
    if (!rs->isNull(6)) {
      r.redeemed_by = rs->getUInt64(6);
    }
    r.redeemed_at = optional_time(*rs, 7);
    r.expires_at = optional_time(*rs, 8);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<batch_row> serial_repository::list_batches(sql::Connection& conn, std::uint64_t plan_id,
                                                       std::uint64_t before_id, int limit, time_point now) {
  auto ps = prepare(conn,
                    "SELECT b.id, b.plan_id, b.price_cents, b.code_count, b.note, b.channel, b.expires_at, "
                    "b.created_at, "
                    "CAST(SUM(s.status = 'unused' AND (s.expires_at IS NULL OR s.expires_at > ?)) AS SIGNED), "
                    "CAST(SUM(s.status = 'redeemed') AS SIGNED), CAST(SUM(s.status = 'revoked') AS SIGNED), "
                    "CAST(SUM(s.status = 'unused' AND s.expires_at <= ?) AS SIGNED) "
                    "FROM serial_batches b LEFT JOIN serials s ON s.batch_id = b.id "
                    "WHERE (? = 0 OR b.plan_id = ?) AND b.id < ? GROUP BY b.id ORDER BY b.id DESC LIMIT ?");
  auto when = format_sql_datetime(now);
  ps->setString(1, when);
  ps->setString(2, when);
  ps->setUInt64(3, plan_id);
  ps->setUInt64(4, plan_id);
  ps->setUInt64(5, before_id);
  ps->setInt(6, limit);
  results rs(ps->executeQuery());
  std::vector<batch_row> out;
  while (rs->next()) {
    batch_row b;
    b.id = rs->getUInt64(1);
    b.plan_id = rs->getUInt64(2);
    b.price_cents = rs->getInt64(3);
    b.count = rs->getInt64(4);
    b.note = rs->getString(5);
    b.channel = rs->getString(6);
    b.expires_at = optional_time(*rs, 7);
    b.created_at = parse_sql_datetime(std::string(rs->getString(8)));
    b.unused = rs->isNull(9) ? 0 : rs->getInt64(9);
    b.redeemed = rs->isNull(10) ? 0 : rs->getInt64(10);
    b.revoked = rs->isNull(11) ? 0 : rs->getInt64(11);
    b.expired = rs->isNull(12) ? 0 : rs->getInt64(12);
    out.push_back(b);
  }
  return out;
}

void serial_repository::record_attempt(sql::Connection& conn, std::uint64_t user_id,
                                       std::optional<std::uint64_t> serial_id, const std::string& outcome,
                                       const std::string& ip, const std::string& user_agent, time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO redemption_attempts (at, user_id, serial_id, outcome, ip, user_agent) "
                    "VALUES (?, ?, ?, ?, ?, ?)");
  ps->setString(1, format_sql_datetime(now));
  ps->setUInt64(2, user_id);
  if (serial_id) {
    ps->setUInt64(3, *serial_id);
  } else {
    ps->setNull(3, 0);
  }
  ps->setString(4, outcome);
  ps->setString(5, ip);
  ps->setString(6, user_agent);
  ps->executeUpdate();
}

std::optional<rental_row> serial_repository::current_rental(sql::Connection& conn, std::uint64_t user_id) {
  auto ps = prepare(conn,
                    "SELECT id, plan_id, status, starts_at, expires_at, traffic_quota_bytes, traffic_used_bytes "
                    "FROM rentals WHERE user_id = ? ORDER BY id DESC LIMIT 1 FOR UPDATE");
  ps->setUInt64(1, user_id);
  results rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  rental_row r;
  r.id = rs->getUInt64(1);
  r.plan_id = rs->getUInt64(2);
  r.period.status = rs->getString(3);
  r.period.starts_at = parse_sql_datetime(std::string(rs->getString(4)));
  r.period.expires_at = parse_sql_datetime(std::string(rs->getString(5)));
  r.period.traffic_quota_bytes = rs->getUInt64(6);
  r.period.traffic_used_bytes = rs->getUInt64(7);
  return r;
}

std::uint64_t serial_repository::save_rental(sql::Connection& conn, std::uint64_t id, std::uint64_t user_id,
                                             std::uint64_t plan_id, const plan_terms& plan,
                                             const rental_period& period, time_point now) {
  auto ps = prepare(conn, id == 0 ? "INSERT INTO rentals (plan_id, plan_name, duration_days, traffic_quota_bytes, "
                                    "device_limit, bandwidth_mbps, replicas, regions, status, starts_at, expires_at, "
                                    "traffic_used_bytes, updated_at, user_id, created_at) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                                  : "UPDATE rentals SET plan_id = ?, plan_name = ?, duration_days = ?, "
                                    "traffic_quota_bytes = ?, device_limit = ?, bandwidth_mbps = ?, replicas = ?, "
                                    "regions = ?, status = ?, starts_at = ?, expires_at = ?, traffic_used_bytes = ?, "
                                    "updated_at = ? WHERE user_id = ? AND id = ?");
  ps->setUInt64(1, plan_id);
  ps->setString(2, plan.name);
  ps->setInt64(3, plan.duration_days);
  ps->setUInt64(4, period.traffic_quota_bytes);
  ps->setInt64(5, plan.device_limit);
  if (plan.bandwidth_mbps) {
    ps->setInt64(6, *plan.bandwidth_mbps);
  } else {
    ps->setNull(6, 0);
  }
  ps->setInt64(7, plan.replicas);
  ps->setString(8, join(plan.regions));
  ps->setString(9, period.status);
  ps->setString(10, format_sql_datetime(period.starts_at));
  ps->setString(11, format_sql_datetime(period.expires_at));
  ps->setUInt64(12, period.traffic_used_bytes);
  ps->setString(13, format_sql_datetime(now));
  ps->setUInt64(14, user_id);
  if (id == 0) {
    ps->setString(15, format_sql_datetime(now));
    return *db::insert_returning_id(conn, *ps);
  }
  ps->setUInt64(15, id);
  ps->executeUpdate();
  return id;
}

void serial_repository::rental_event(sql::Connection& conn, std::uint64_t rental_id, const std::string& from,
                                     const std::string& to, const std::string& reason, time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO rental_events (rental_id, at, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?)");
  ps->setUInt64(1, rental_id);
  ps->setString(2, format_sql_datetime(now));
  if (from.empty()) {
    ps->setNull(3, 0);
  } else {
    ps->setString(3, from);
  }
  ps->setString(4, to);
  ps->setString(5, reason);
  ps->executeUpdate();
}

std::string serial_repository::insert_order(sql::Connection& conn, std::uint64_t user_id, std::uint64_t plan_id,
                                            std::uint64_t rental_id, const std::string& source,
                                            std::optional<std::uint64_t> serial_id, const std::string& kind,
                                            std::int64_t amount_cents, time_point now) {
  // Unique and unguessable enough for a receipt: date + 12 hex digits.
  auto stamp = format_sql_datetime(now);
  std::string number = "D" + stamp.substr(0, 4) + stamp.substr(5, 2) + stamp.substr(8, 2) + "-" + random_hex(6);
  auto ps = prepare(conn,
                    "INSERT INTO orders (number, user_id, plan_id, rental_id, source, serial_id, kind, amount_cents, "
                    "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'completed', ?, ?)");
  ps->setString(1, number);
  ps->setUInt64(2, user_id);
  ps->setUInt64(3, plan_id);
  ps->setUInt64(4, rental_id);
  ps->setString(5, source);
  if (serial_id) {
    ps->setUInt64(6, *serial_id);
  } else {
    ps->setNull(6, 0);
  }
  ps->setString(7, kind);
  ps->setInt64(8, amount_cents);
  ps->setString(9, format_sql_datetime(now));
  ps->setString(10, format_sql_datetime(now));
  ps->executeUpdate();
  return number;
}

}  // namespace derpmgr::controller::commerce
