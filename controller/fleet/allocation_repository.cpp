#include "controller/fleet/allocation_repository.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>
#include <set>

#include "controller/auth/server_keys.hpp"
#include "controller/db/statements.hpp"
#include "controller/fleet/node_repository.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/secret_box.hpp"
#include "shared/tls/x509.hpp"

namespace derpmgr::controller::fleet {

namespace {

using db::prepare;
using db::text_or_empty;

constexpr const char* columns =
    "id, rental_id, node_id, port, config_version, public_host, cert_pem, cert_pin, cert_expires_at, state, "
    "observed_state, observed_error, observed_config_version, observed_at, created_at, released_at, replaced_by";

allocation_row read_allocation(sql::ResultSet& rs) {
  allocation_row a;
  a.id = rs.getUInt64(1);
  if (!rs.isNull(2)) {
    a.rental_id = rs.getUInt64(2);
  }
  a.node_id = rs.getUInt64(3);
  a.port = rs.getInt(4);
  a.config_version = rs.getUInt64(5);
  a.public_host = rs.getString(6);
  a.cert_pem = rs.getString(7);
  a.cert_pin = rs.getString(8);
  a.cert_expires_at = parse_sql_datetime(std::string(rs.getString(9)));
  a.state = rs.getString(10);
  a.observed_state = text_or_empty(rs, 11);
  a.observed_error = text_or_empty(rs, 12);
  if (!rs.isNull(13)) {
    a.observed_config_version = rs.getUInt64(13);
  }
  if (!rs.isNull(14)) {
    a.observed_at = parse_sql_datetime(std::string(rs.getString(14)));
  }
  a.created_at = parse_sql_datetime(std::string(rs.getString(15)));
  if (!rs.isNull(16)) {
    a.released_at = parse_sql_datetime(std::string(rs.getString(16)));
  }
  if (!rs.isNull(17)) {
    a.replaced_by = rs.getUInt64(17);
  }
  return a;
}

std::map<std::uint64_t, std::vector<std::string>> keys_of(sql::Connection& conn, const std::string& where,
                                                          std::uint64_t param) {
  auto ps = prepare(conn,
                    "SELECT k.allocation_id, k.node_key FROM allocation_keys k JOIN allocations a ON a.id = "
                    "k.allocation_id WHERE " + where + " ORDER BY k.allocation_id, k.node_key");
  ps->setUInt64(1, param);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::map<std::uint64_t, std::vector<std::string>> out;
  while (rs->next()) {
    out[rs->getUInt64(1)].emplace_back(rs->getString(2));
  }
  return out;
}

void insert_keys(sql::Connection& conn, std::uint64_t id, const std::vector<std::string>& keys) {
  std::set<std::string> unique(keys.begin(), keys.end());
  auto ps = prepare(conn, "INSERT INTO allocation_keys (allocation_id, node_key) VALUES (?, ?)");
  for (const auto& k : unique) {
    ps->setUInt64(1, id);
    ps->setString(2, k);
    ps->executeUpdate();
  }
}

std::optional<std::uint64_t> node_of(sql::Connection& conn, std::uint64_t id) {
  auto ps = prepare(conn,
                    "SELECT node_id FROM allocations WHERE id = ? AND released_at IS NULL AND state <> 'released' "
                    "FOR UPDATE");
  ps->setUInt64(1, id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return rs->getUInt64(1);
}

std::string sealing_context(std::uint64_t allocation_id) { return "allocation:" + std::to_string(allocation_id); }

}  // namespace

bool valid_node_key(const std::string& key) {
  if (key.size() != 72 || key.rfind("nodekey:", 0) != 0) {
    return false;
  }
  for (std::size_t i = 8; i < key.size(); ++i) {
    char c = key[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

allocation_row allocation_repository::create(sql::Connection& conn, const auth::server_keys& keys,
                                             const node_row& node, const allocation_request& request,
                                             time_point now) {
  for (const auto& k : request.allowed_keys) {
    if (!valid_node_key(k)) {
      throw allocation_error(400, "invalid_field", "allowed_keys must be nodekey:<64 lowercase hex>", "allowed_keys");
    }
  }
  const auto& s = node.settings;
  if (live_count(conn, node.id) >= s.capacity) {
    throw allocation_error(409, "node_full", "the node is at capacity");
  }
  auto taken_ps = prepare(conn, "SELECT port FROM allocations WHERE node_id = ? AND released_at IS NULL ORDER BY port");
  taken_ps->setUInt64(1, node.id);
  std::unique_ptr<sql::ResultSet> taken_rs(taken_ps->executeQuery());
  std::set<int> taken;
  while (taken_rs->next()) {
    taken.insert(taken_rs->getInt(1));
  }
  int port = 0;
  if (request.port) {
    port = *request.port;
    if (port < s.port_min || port > s.port_max) {
      throw allocation_error(400, "invalid_field", "port must be within the node's port range", "port");
    }
    if (taken.contains(port)) {
      throw allocation_error(409, "port_taken", "another allocation holds this port", "port");
    }
  } else {
    for (auto p = s.port_min; p <= s.port_max; ++p) {
      if (!taken.contains(static_cast<int>(p))) {
        port = static_cast<int>(p);
        break;
      }
    }
    if (port == 0) {
      throw allocation_error(409, "node_full", "no free port in the node's range");
    }
  }
  const auto& host = s.public_host();
  auto pair = make_self_signed(host, certificate_lifetime);
  auto pin = sha256_raw_pin(pair.cert_pem);
  auto expires = now + certificate_lifetime;
  auto ps = prepare(conn,
                    "INSERT INTO allocations (rental_id, node_id, port, config_version, public_host, cert_pem, "
                    "cert_key_sealed, cert_pin, cert_expires_at, state, created_at, updated_at) "
                    "VALUES (?, ?, ?, 1, ?, ?, '', ?, ?, 'running', ?, ?)");
  if (request.rental_id) {
    ps->setUInt64(1, *request.rental_id);
  } else {
    ps->setNull(1, 0);
  }
  ps->setUInt64(2, node.id);
  ps->setInt(3, port);
  ps->setString(4, host);
  ps->setString(5, pair.cert_pem);
  ps->setString(6, pin);
  ps->setString(7, format_sql_datetime(expires));
  ps->setString(8, format_sql_datetime(now));
  ps->setString(9, format_sql_datetime(now));
  auto id = db::insert_returning_id(conn, *ps);
  if (!id) {
    throw allocation_error(409, "port_taken", "another allocation holds this port", "port");
  }
  // The sealed key is bound to its allocation id, so a box copied to another row does not open.
  auto sealed = to_hex(secret_box::seal(keys.allocation_key(), pair.key_pem, sealing_context(*id)));
  auto seal_ps = prepare(conn, "UPDATE allocations SET cert_key_sealed = ? WHERE id = ?");
  seal_ps->setString(1, sealed);
  seal_ps->setUInt64(2, *id);
  seal_ps->executeUpdate();
  insert_keys(conn, *id, request.allowed_keys);
  node_repository::bump_generation(conn, node.id, now);
  return *by_id(conn, *id);
}

bool allocation_repository::release(sql::Connection& conn, std::uint64_t id, time_point now) {
  auto node_id = node_of(conn, id);
  if (!node_id) {
    return false;
  }
  node_repository::bump_generation(conn, *node_id, now);
  auto ps = prepare(conn,
                    "UPDATE allocations a JOIN nodes n ON n.id = a.node_id SET a.state = 'released', "
                    "a.release_generation = n.desired_generation, a.released_at = IF(n.enrolled_at IS NULL OR "
                    "n.deleted_at IS NOT NULL, ?, NULL), a.updated_at = ? WHERE a.id = ?");
  ps->setString(1, format_sql_datetime(now));
  ps->setString(2, format_sql_datetime(now));
  ps->setUInt64(3, id);
  ps->executeUpdate();
  return true;
}

allocation_row allocation_repository::move(sql::Connection& conn, const auth::server_keys& keys, std::uint64_t id,
                                           const node_row& target, std::optional<int> port, time_point now) {
  auto current = by_id(conn, id);
  if (!current || current->released_at || current->state == "released" || !node_of(conn, id)) {
    throw allocation_error(404, "not_found", "no such live allocation");
  }
  if (current->state != "running") {
    throw allocation_error(409, "not_running", "only a running allocation can be moved (this one is " +
                                                   current->state + ")");
  }
  if (current->replaced_by) {
    throw allocation_error(409, "already_moving", "this allocation is already being moved");
  }
  if (target.id == current->node_id) {
    throw allocation_error(409, "same_node", "the allocation is already on this node", "node_id");
  }
  if (target.draining || target.delete_requested_at) {
    throw allocation_error(409, "node_draining", "the target node is draining", "node_id");
  }
  if (!target.enrolled_at) {
    throw allocation_error(409, "node_not_enrolled", "the target node has no agent yet", "node_id");
  }
  if (current->rental_id) {
    // A rental's servers stay on distinct hosts.
    auto ps = prepare(conn,
                      "SELECT COUNT(*) FROM allocations WHERE rental_id = ? AND id <> ? AND released_at IS NULL AND "
                      "state <> 'released' AND (node_id = ? OR public_host = ?)");
    ps->setUInt64(1, *current->rental_id);
    ps->setUInt64(2, id);
    ps->setUInt64(3, target.id);
    ps->setString(4, target.settings.public_host());
    std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
    rs->next();
    if (rs->getInt64(1) > 0) {
      throw allocation_error(409, "same_host", "the rental already has a server on that host", "node_id");
    }
  }
  allocation_request request;
  request.node_id = target.id;
  request.port = port;
  request.allowed_keys = current->allowed_keys;
  request.rental_id = current->rental_id;
  auto replacement = create(conn, keys, target, request, now);
  auto mark = prepare(conn, "UPDATE allocations SET replaced_by = ?, updated_at = ? WHERE id = ?");
  mark->setUInt64(1, replacement.id);
  mark->setString(2, format_sql_datetime(now));
  mark->setUInt64(3, id);
  mark->executeUpdate();
  return replacement;
}

bool allocation_repository::set_keys(sql::Connection& conn, std::uint64_t id, const std::vector<std::string>& keys,
                                     time_point now) {
  auto node_id = node_of(conn, id);
  if (!node_id) {
    return false;
  }
  auto del = prepare(conn, "DELETE FROM allocation_keys WHERE allocation_id = ?");
  del->setUInt64(1, id);
  del->executeUpdate();
  insert_keys(conn, id, keys);
  node_repository::bump_generation(conn, *node_id, now);
  return true;
}

void allocation_repository::set_rental_state(sql::Connection& conn, std::uint64_t rental_id, const std::string& from,
                                             const std::string& to, time_point now) {
  auto nodes = prepare(conn,
                       "SELECT DISTINCT node_id FROM allocations WHERE rental_id = ? AND state = ? AND released_at IS "
                       "NULL FOR UPDATE");
  nodes->setUInt64(1, rental_id);
  nodes->setString(2, from);
  std::unique_ptr<sql::ResultSet> rs(nodes->executeQuery());
  std::set<std::uint64_t> ids;
  while (rs->next()) {
    ids.insert(rs->getUInt64(1));
  }
  auto ps = prepare(conn,
                    "UPDATE allocations SET state = ?, updated_at = ? WHERE rental_id = ? AND state = ? AND "
                    "released_at IS NULL");
  ps->setString(1, to);
  ps->setString(2, format_sql_datetime(now));
  ps->setUInt64(3, rental_id);
  ps->setString(4, from);
  ps->executeUpdate();
  for (auto id : ids) {
    node_repository::bump_generation(conn, id, now);
  }
}

std::optional<allocation_row> allocation_repository::by_id(sql::Connection& conn, std::uint64_t id) {
  auto ps = prepare(conn, std::string("SELECT ") + columns + " FROM allocations WHERE id = ?");
  ps->setUInt64(1, id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  auto a = read_allocation(*rs);
  a.allowed_keys = keys_of(conn, "a.id = ?", id)[id];
  return a;
}

std::vector<allocation_row> allocation_repository::list_live(sql::Connection& conn,
                                                             std::optional<std::uint64_t> node_id,
                                                             std::optional<std::uint64_t> rental_id,
                                                             const std::string& state) {
  auto ps = prepare(conn, std::string("SELECT ") + columns + " FROM allocations WHERE released_at IS NULL" +
                              (node_id ? " AND node_id = ?" : "") + (rental_id ? " AND rental_id = ?" : "") +
                              (state.empty() ? "" : " AND state = ?") + " ORDER BY id");
  int index = 0;
  if (node_id) {
    ps->setUInt64(++index, *node_id);
  }
  if (rental_id) {
    ps->setUInt64(++index, *rental_id);
  }
  if (!state.empty()) {
    ps->setString(++index, state);
  }
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<allocation_row> out;
  while (rs->next()) {
    out.push_back(read_allocation(*rs));
  }
  return out;
}

std::int64_t allocation_repository::live_count(sql::Connection& conn, std::uint64_t node_id) {
  auto ps = prepare(conn, "SELECT COUNT(*) FROM allocations WHERE node_id = ? AND released_at IS NULL");
  ps->setUInt64(1, node_id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  rs->next();
  return rs->getInt64(1);
}

protocol::desired_state allocation_repository::desired_for(sql::Connection& conn, const auth::server_keys& keys,
                                                           std::uint64_t node_id, const container_profile& profile) {
  protocol::desired_state state;
  state.node_id = static_cast<std::int64_t>(node_id);
  auto node = node_repository::by_id(conn, node_id);
  if (!node) {
    return state;
  }
  state.generation = static_cast<std::int64_t>(node->desired_generation);
  auto ps = prepare(conn,
                    "SELECT id, config_version, public_host, port, cert_pem, cert_key_sealed FROM allocations "
                    "WHERE node_id = ? AND released_at IS NULL AND state = 'running' ORDER BY id");
  ps->setUInt64(1, node_id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  auto allowed = keys_of(conn, "a.node_id = ? AND a.released_at IS NULL", node_id);
  while (rs->next()) {
    protocol::allocation_spec spec;
    auto id = rs->getUInt64(1);
    auto version = rs->getUInt64(2);
    spec.id = static_cast<std::int64_t>(id);
    spec.config_version = static_cast<std::int64_t>(version);
    spec.image = profile.image;
    spec.bind_ip = node->settings.bind_ip;
    spec.public_host = rs->getString(3);
    spec.port = rs->getInt(4);
    spec.admission_token = keys.admission_token(id, version);
    spec.cert_pem = rs->getString(5);
    spec.key_pem = secret_box::open(keys.allocation_key(), from_hex(std::string(rs->getString(6))),
                                    sealing_context(id));
    spec.allowed_keys = allowed[id];
    if (node->settings.bandwidth_mbps > 0) {
      // Plans cap bandwidth per client later (rentals); until then the node's own figure bounds each client.
      spec.rate_bytes_per_sec = node->settings.bandwidth_mbps * 1000 * 1000 / 8;
      spec.rate_burst_bytes = spec.rate_bytes_per_sec * 2;
    }
    spec.memory_bytes = profile.memory_bytes;
    spec.pids_limit = profile.pids_limit;
    state.allocations.push_back(std::move(spec));
  }
  return state;
}

void allocation_repository::record_status(sql::Connection& conn, std::uint64_t node_id,
                                          const protocol::status& status, time_point now) {
  auto ps = prepare(conn,
                    "UPDATE allocations SET observed_state = ?, observed_error = ?, observed_config_version = ?, "
                    "observed_at = ? WHERE id = ? AND node_id = ?");
  for (const auto& a : status.allocations) {
    ps->setString(1, a.state.substr(0, 16));
    if (a.error.empty()) {
      ps->setNull(2, 0);
    } else {
      ps->setString(2, a.error.substr(0, 255));
    }
    ps->setUInt64(3, static_cast<std::uint64_t>(std::max<std::int64_t>(a.config_version, 0)));
    ps->setString(4, format_sql_datetime(now));
    ps->setUInt64(5, static_cast<std::uint64_t>(std::max<std::int64_t>(a.id, 0)));
    ps->setUInt64(6, node_id);
    ps->executeUpdate();
  }
  if (status.errors.empty()) {
    // The agent converged past the generation that dropped these: their containers are gone, their ports free.
    auto freed = prepare(conn,
                         "UPDATE allocations SET released_at = ?, updated_at = ? WHERE node_id = ? AND state = "
                         "'released' AND released_at IS NULL AND release_generation <= ?");
    freed->setString(1, format_sql_datetime(now));
    freed->setString(2, format_sql_datetime(now));
    freed->setUInt64(3, node_id);
    freed->setUInt64(4, static_cast<std::uint64_t>(std::max<std::int64_t>(status.generation, 0)));
    freed->executeUpdate();
  }
  boost::json::array errors;
  for (const auto& e : status.errors) {
    errors.emplace_back(e.substr(0, 500));
  }
  auto node_ps = prepare(conn, "UPDATE nodes SET applied_generation = ?, agent_errors = ? WHERE id = ?");
  node_ps->setUInt64(1, static_cast<std::uint64_t>(std::max<std::int64_t>(status.generation, 0)));
  node_ps->setString(2, boost::json::serialize(errors));
  node_ps->setUInt64(3, node_id);
  node_ps->executeUpdate();
}

}  // namespace derpmgr::controller::fleet
