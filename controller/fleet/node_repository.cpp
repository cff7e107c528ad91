#include "controller/fleet/node_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "controller/db/statements.hpp"

namespace derpmgr::controller::fleet {

namespace {

using db::prepare;
using db::text_or_empty;
using db::time_or_none;

constexpr const char* columns =
    "id, name, region, public_ipv4, public_ipv6, dns_name, bind_ip, port_min, port_max, capacity, bandwidth_mbps, "
    "monthly_traffic_cap_bytes, traffic_reset_day, provider, monthly_cost_cents, paid_until, draining, enrolled_at, "
    "cert_serial, cert_expires_at, desired_generation, applied_generation, session_replica, last_seen_at, "
    "agent_version, host_facts, rtt_ms, agent_errors, created_at, delete_requested_at";

void set_optional(sql::PreparedStatement& ps, int index, const std::string& value) {
  if (value.empty()) {
    ps.setNull(index, 0);
  } else {
    ps.setString(index, value);
  }
}

// Binds the settings as parameters 1..15 in column order.
void bind_settings(sql::PreparedStatement& ps, const node_settings& s) {
  ps.setString(1, s.name);
  ps.setString(2, s.region);
  set_optional(ps, 3, s.public_ipv4);
  set_optional(ps, 4, s.public_ipv6);
  set_optional(ps, 5, s.dns_name);
  set_optional(ps, 6, s.bind_ip);
  ps.setInt64(7, s.port_min);
  ps.setInt64(8, s.port_max);
  ps.setInt64(9, s.capacity);
  ps.setInt64(10, s.bandwidth_mbps);
  ps.setUInt64(11, s.monthly_traffic_cap_bytes);
  ps.setInt64(12, s.traffic_reset_day);
  ps.setString(13, s.provider);
  ps.setInt64(14, s.monthly_cost_cents);
  set_optional(ps, 15, s.paid_until);
}

node_row read_node(sql::ResultSet& rs) {
  node_row n;
  n.id = rs.getUInt64(1);
  auto& s = n.settings;
  s.name = rs.getString(2);
  s.region = rs.getString(3);
  s.public_ipv4 = text_or_empty(rs, 4);
  s.public_ipv6 = text_or_empty(rs, 5);
  s.dns_name = text_or_empty(rs, 6);
  s.bind_ip = text_or_empty(rs, 7);
  s.port_min = rs.getInt64(8);
  s.port_max = rs.getInt64(9);
  s.capacity = rs.getInt64(10);
  s.bandwidth_mbps = rs.getInt64(11);
  s.monthly_traffic_cap_bytes = rs.getUInt64(12);
  s.traffic_reset_day = rs.getInt64(13);
  s.provider = rs.getString(14);
  s.monthly_cost_cents = rs.getInt64(15);
  s.paid_until = text_or_empty(rs, 16);
  n.draining = rs.getBoolean(17);
  n.enrolled_at = time_or_none(rs, 18);
  n.cert_serial = text_or_empty(rs, 19);
  n.cert_expires_at = time_or_none(rs, 20);
  n.desired_generation = rs.getUInt64(21);
  n.applied_generation = rs.getUInt64(22);
  n.session_replica = text_or_empty(rs, 23);
  n.last_seen_at = time_or_none(rs, 24);
  n.agent_version = text_or_empty(rs, 25);
  n.host_facts = text_or_empty(rs, 26);
  if (!rs.isNull(27)) {
    n.rtt_ms = rs.getDouble(27);
  }
  n.agent_errors = text_or_empty(rs, 28);
  n.created_at = parse_sql_datetime(std::string(rs.getString(29)));
  n.delete_requested_at = time_or_none(rs, 30);
  return n;
}

}  // namespace

const std::string& node_settings::public_host() const {
  if (!dns_name.empty()) {
    return dns_name;
  }
  if (!public_ipv4.empty()) {
    return public_ipv4;
  }
  return public_ipv6;
}

std::optional<std::uint64_t> node_repository::insert(sql::Connection& conn, const node_settings& s, time_point now) {
  auto ps = prepare(conn,
                    "INSERT INTO nodes (name, region, public_ipv4, public_ipv6, dns_name, bind_ip, port_min, port_max, "
                    "capacity, bandwidth_mbps, monthly_traffic_cap_bytes, traffic_reset_day, provider, "
                    "monthly_cost_cents, paid_until, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  bind_settings(*ps, s);
  ps->setString(16, format_sql_datetime(now));
  ps->setString(17, format_sql_datetime(now));
  return db::insert_returning_id(conn, *ps);
}

bool node_repository::update(sql::Connection& conn, std::uint64_t id, const node_settings& s, time_point now,
                             bool& name_clash) {
  name_clash = false;
  auto clash = prepare(conn, "SELECT id FROM nodes WHERE live_name = ? AND id <> ?");
  clash->setString(1, s.name);
  clash->setUInt64(2, id);
  if (std::unique_ptr<sql::ResultSet>(clash->executeQuery())->next()) {
    name_clash = true;
    return by_id(conn, id).has_value();
  }
  auto ps = prepare(conn,
                    "UPDATE nodes SET name = ?, region = ?, public_ipv4 = ?, public_ipv6 = ?, dns_name = ?, "
                    "bind_ip = ?, port_min = ?, port_max = ?, capacity = ?, bandwidth_mbps = ?, "
                    "monthly_traffic_cap_bytes = ?, traffic_reset_day = ?, provider = ?, monthly_cost_cents = ?, "
                    "paid_until = ?, updated_at = ?, desired_generation = desired_generation + 1 "
                    "WHERE id = ? AND deleted_at IS NULL");
  bind_settings(*ps, s);
  ps->setString(16, format_sql_datetime(now));
  ps->setUInt64(17, id);
  return ps->executeUpdate() == 1;
}

std::optional<node_row> node_repository::by_id(sql::Connection& conn, std::uint64_t id, bool for_update) {
  auto ps = prepare(conn, std::string("SELECT ") + columns + " FROM nodes WHERE id = ? AND deleted_at IS NULL" +
                              (for_update ? " FOR UPDATE" : ""));
  ps->setUInt64(1, id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return read_node(*rs);
}

std::vector<node_row> node_repository::list(sql::Connection& conn) {
  auto ps = prepare(conn, std::string("SELECT ") + columns + " FROM nodes WHERE deleted_at IS NULL ORDER BY id");
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<node_row> out;
  while (rs->next()) {
    out.push_back(read_node(*rs));
  }
  return out;
}

bool node_repository::set_draining(sql::Connection& conn, std::uint64_t id, bool draining, time_point now) {
  auto ps = prepare(conn, "UPDATE nodes SET draining = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL");
  ps->setBoolean(1, draining);
  ps->setString(2, format_sql_datetime(now));
  ps->setUInt64(3, id);
  ps->executeUpdate();
  return by_id(conn, id).has_value();
}

void node_repository::request_delete(sql::Connection& conn, std::uint64_t id, time_point now) {
  auto ps = prepare(conn,
                    "UPDATE nodes SET draining = TRUE, delete_requested_at = COALESCE(delete_requested_at, ?), "
                    "updated_at = ? WHERE id = ? AND deleted_at IS NULL");
  ps->setString(1, format_sql_datetime(now));
  ps->setString(2, format_sql_datetime(now));
  ps->setUInt64(3, id);
  ps->executeUpdate();
}

bool node_repository::soft_delete(sql::Connection& conn, std::uint64_t id, time_point now) {
  auto ps = prepare(conn,
                    "UPDATE nodes SET deleted_at = ?, updated_at = ?, cert_serial = NULL, prev_cert_serial = NULL "
                    "WHERE id = ? AND deleted_at IS NULL");
  ps->setString(1, format_sql_datetime(now));
  ps->setString(2, format_sql_datetime(now));
  ps->setUInt64(3, id);
  if (ps->executeUpdate() != 1) {
    return false;
  }
  auto tokens = prepare(conn, "UPDATE enrollment_tokens SET used_at = ? WHERE node_id = ? AND used_at IS NULL");
  tokens->setString(1, format_sql_datetime(now));
  tokens->setUInt64(2, id);
  tokens->executeUpdate();
  return true;
}

void node_repository::set_certificate(sql::Connection& conn, std::uint64_t id, const std::string& serial,
                                      time_point expires_at, bool keep_previous, time_point now) {
  auto ps = prepare(conn, std::string("UPDATE nodes SET prev_cert_serial = ") +
                              (keep_previous ? "cert_serial" : "NULL") +
                              ", cert_serial = ?, cert_expires_at = ?, enrolled_at = COALESCE(enrolled_at, ?), "
                              "updated_at = ? WHERE id = ?");
  ps->setString(1, serial);
  ps->setString(2, format_sql_datetime(expires_at));
  ps->setString(3, format_sql_datetime(now));
  ps->setString(4, format_sql_datetime(now));
  ps->setUInt64(5, id);
  ps->executeUpdate();
}

void node_repository::bump_generation(sql::Connection& conn, std::uint64_t id, time_point now) {
  auto ps = prepare(conn, "UPDATE nodes SET desired_generation = desired_generation + 1, updated_at = ? WHERE id = ?");
  ps->setString(1, format_sql_datetime(now));
  ps->setUInt64(2, id);
  ps->executeUpdate();
}

std::map<std::uint64_t, allocation_counts> node_repository::allocation_counts_by_node(sql::Connection& conn) {
  auto ps = prepare(conn,
                    "SELECT node_id, COUNT(*), SUM(observed_state = 'running' AND observed_config_version = "
                    "config_version) FROM allocations WHERE released_at IS NULL AND state = 'running' "
                    "GROUP BY node_id");
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::map<std::uint64_t, allocation_counts> out;
  while (rs->next()) {
    out[rs->getUInt64(1)] = {rs->getInt64(2), rs->isNull(3) ? 0 : rs->getInt64(3)};
  }
  return out;
}

}  // namespace derpmgr::controller::fleet
