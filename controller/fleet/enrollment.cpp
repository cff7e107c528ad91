#include "controller/fleet/enrollment.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <charconv>
#include <memory>

#include "controller/auth/server_keys.hpp"
#include "controller/db/statements.hpp"
#include "controller/fleet/node_repository.hpp"
#include "shared/protocol/enrollment_token.hpp"
#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::fleet {

namespace {

using db::prepare;

protocol::certificate issue_for(const certificate_authority& ca, std::uint64_t node_id, const std::string& csr_pem,
                                issued_certificate& issued) {
  certificate_request req;
  req.csr_pem = csr_pem;
  req.common_name = node_common_name(node_id);
  req.usage = certificate_usage::client;
  // Certificates are checked by OpenSSL against the real time, so their validity follows the system clock.
  auto wall = std::chrono::system_clock::now();
  req.not_before = wall - std::chrono::minutes(5);
  req.not_after = wall + enrollment::certificate_lifetime;
  try {
    issued = ca.issue(req);
  } catch (const std::invalid_argument& e) {
    throw enrollment_error(400, "invalid_csr", e.what());
  }
  return protocol::certificate{issued.cert_pem, ca.cert_pem()};
}

}  // namespace

std::string node_common_name(std::uint64_t node_id) { return "node-" + std::to_string(node_id); }

std::uint64_t node_id_from_common_name(const std::string& common_name) {
  if (common_name.rfind("node-", 0) != 0) {
    return 0;
  }
  std::uint64_t id = 0;
  const char* begin = common_name.data() + 5;
  const char* end = common_name.data() + common_name.size();
  auto [ptr, ec] = std::from_chars(begin, end, id);
  if (ec != std::errc() || ptr != end) {
    return 0;
  }
  return id;
}

enrollment_token enrollment::create_token(sql::Connection& conn, const auth::server_keys& keys,
                                          const certificate_authority& ca, std::uint64_t node_id,
                                          std::uint64_t admin_id, time_point now) {
  auto secret = random_hex(16);
  enrollment_token token{protocol::format_enrollment_token({secret, ca.fingerprint()}), now + token_ttl};
  auto ps = prepare(conn,
                    "INSERT INTO enrollment_tokens (node_id, token_hash, created_by, created_at, expires_at) "
                    "VALUES (?, ?, ?, ?, ?)");
  ps->setUInt64(1, node_id);
  ps->setString(2, keys.token_hash(secret));
  if (admin_id != 0) {
    ps->setUInt64(3, admin_id);
  } else {
    ps->setNull(3, 0);
  }
  ps->setString(4, format_sql_datetime(now));
  ps->setString(5, format_sql_datetime(token.expires_at));
  ps->executeUpdate();
  return token;
}

protocol::enroll_response enrollment::enroll(sql::Connection& conn, const auth::server_keys& keys,
                                             const certificate_authority& ca,
                                             const protocol::enroll_request& request, time_point now) {
  protocol::enrollment_token_parts parts;
  try {
    parts = protocol::parse_enrollment_token(request.token);
  } catch (const std::invalid_argument&) {
    throw enrollment_error(401, "invalid_token", "the enrollment token is not valid");
  }
  if (parts.ca_fingerprint != ca.fingerprint()) {
    throw enrollment_error(401, "invalid_token", "the enrollment token was made for another CA");
  }
  auto find = prepare(conn,
                      "SELECT id, node_id, expires_at, used_at FROM enrollment_tokens WHERE token_hash = ? FOR UPDATE");
  find->setString(1, keys.token_hash(parts.secret));
  std::unique_ptr<sql::ResultSet> rs(find->executeQuery());
  if (!rs->next()) {
    throw enrollment_error(401, "invalid_token", "the enrollment token is not valid");
  }
  auto token_id = rs->getUInt64(1);
  auto node_id = rs->getUInt64(2);
  auto expires_at = parse_sql_datetime(std::string(rs->getString(3)));
  if (!rs->isNull(4)) {
    throw enrollment_error(401, "token_used", "the enrollment token was already used");
  }
  if (now >= expires_at) {
    throw enrollment_error(401, "token_expired", "the enrollment token has expired; create a new one");
  }
  auto node = node_repository::by_id(conn, node_id, true);
  if (!node) {
    throw enrollment_error(401, "invalid_token", "the node of this token was deleted");
  }
  issued_certificate issued;
  auto cert = issue_for(ca, node_id, request.csr_pem, issued);
  auto use = prepare(conn, "UPDATE enrollment_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL");
  use->setString(1, format_sql_datetime(now));
  use->setUInt64(2, token_id);
  if (use->executeUpdate() != 1) {
    throw enrollment_error(401, "token_used", "the enrollment token was already used");
  }
  node_repository::set_certificate(conn, node_id, issued.serial_hex, std::chrono::time_point_cast<time_point::duration>(issued.not_after), false, now);
  return protocol::enroll_response{static_cast<std::int64_t>(node_id), cert.cert_pem, cert.ca_pem};
}

protocol::certificate enrollment::renew(sql::Connection& conn, const certificate_authority& ca,
                                        std::uint64_t node_id, const std::string& csr_pem, time_point now) {
  auto node = node_repository::by_id(conn, node_id, true);
  if (!node) {
    throw enrollment_error(401, "node_deleted", "the node was deleted");
  }
  issued_certificate issued;
  auto cert = issue_for(ca, node_id, csr_pem, issued);
  node_repository::set_certificate(conn, node_id, issued.serial_hex, std::chrono::time_point_cast<time_point::duration>(issued.not_after), true, now);
  return cert;
}

}  // namespace derpmgr::controller::fleet
