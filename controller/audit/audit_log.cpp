#include "controller/audit/audit_log.hpp"

#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/value.hpp>
#include <memory>
#include <stdexcept>
#include <variant>

#include "controller/audit/audit_chain.hpp"
#include "controller/audit/audit_cursor.hpp"
#include "controller/audit/audit_errors.hpp"

namespace derpmgr::controller::audit {

namespace {

// Rows fetched per round trip while verifying, so a long log never sits in memory whole.
constexpr int verify_batch = 1000;

constexpr const char* row_columns =
    "seq, at, actor_kind, actor_id, action, target, ip, user_agent, details, prev_hash, hash";

std::unique_ptr<sql::PreparedStatement> prepare(sql::Connection& conn, const std::string& statement) {
  return std::unique_ptr<sql::PreparedStatement>(conn.prepareStatement(statement));
}

audit_record read_record(sql::ResultSet& rs) {
  audit_record r;
  r.seq = rs.getUInt64(1);
  r.at = parse_sql_datetime(std::string(rs.getString(2)));
  r.actor_kind = rs.getString(3);
  if (!rs.isNull(4)) {
    r.actor_id = rs.getUInt64(4);
  }
  r.action = rs.getString(5);
  r.target = rs.getString(6);
  r.ip = rs.getString(7);
  r.user_agent = rs.getString(8);
  r.details = rs.getString(9);
  r.prev_hash = rs.getString(10);
  r.hash = rs.getString(11);
  return r;
}

audit_head read_head(sql::Connection& conn, bool for_update) {
  auto ps = prepare(conn, for_update ? "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
                                     : "SELECT seq, hash FROM audit_head WHERE id = 1");
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    throw audit_log_error("the audit_head row is missing: run `derpmgr-controller migrate`");
  }
  return audit_head{rs->getUInt64(1), rs->getString(2)};
}

// The lowest seq above `after`, if any row has one.
std::optional<std::uint64_t> first_row_after(sql::Connection& conn, std::uint64_t after) {
  auto ps = prepare(conn, "SELECT seq FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1");
  ps->setUInt64(1, after);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return rs->getUInt64(1);
}

// `prefix` as a LIKE pattern with '!' as the escape character (portable: no backslash rules involved).
std::string like_prefix(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '!' || c == '%' || c == '_') {
      out += '!';
    }
    out += c;
  }
  out += '%';
  return out;
}

}  // namespace

boost::json::object to_json(const audit_page& page) {
  boost::json::array items;
  items.reserve(page.items.size());
  for (const auto& record : page.items) {
    items.push_back(to_json(record));
  }
  boost::json::object out;
  out["items"] = std::move(items);
  if (page.next_cursor) {
    out["next_cursor"] = *page.next_cursor;
  } else {
    out["next_cursor"] = nullptr;
  }
  return out;
}

std::uint64_t audit_log::append(sql::Connection& conn, const audit_entry& entry, time_point now) const {
  if (conn.getAutoCommit()) {
    throw std::logic_error("audit_log::append must run inside the caller's transaction");
  }
  auto head = read_head(conn, true);
  auto record = seal(entry, head.seq + 1, now, head.hash);

  auto insert = prepare(conn,
                        "INSERT INTO audit_log (seq, at, actor_kind, actor_id, action, target, ip, user_agent, "
                        "details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert->setUInt64(1, record.seq);
  insert->setString(2, format_sql_datetime(record.at));
  insert->setString(3, record.actor_kind);
  if (record.actor_id) {
    insert->setUInt64(4, *record.actor_id);
  } else {
    insert->setNull(4, sql::DataType::BIGINT);
  }
  insert->setString(5, record.action);
  insert->setString(6, record.target);
  insert->setString(7, record.ip);
  insert->setString(8, record.user_agent);
  insert->setString(9, record.details);
  insert->setString(10, record.prev_hash);
  insert->setString(11, record.hash);
  insert->executeUpdate();

  auto advance = prepare(conn, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1");
  advance->setUInt64(1, record.seq);
  advance->setString(2, record.hash);
  advance->executeUpdate();
  return record.seq;
}

audit_verification audit_log::verify(sql::Connection& conn) const {
  // Rows up to the head were committed before it was read (an append writes both in one transaction), so checking
  // exactly those is consistent while appends go on.
  auto head = read_head(conn, false);
  audit_chain_checker checker;
  auto batch = prepare(
      conn, std::string("SELECT ") + row_columns + " FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?");
  for (;;) {
    batch->setUInt64(1, checker.last_seq());
    batch->setUInt64(2, head.seq);
    batch->setInt(3, verify_batch);
    std::unique_ptr<sql::ResultSet> rs(batch->executeQuery());
    int rows = 0;
    while (rs->next()) {
      ++rows;
      if (auto problem = checker.add(read_record(*rs))) {
        return audit_verification{checker.entries(), problem};
      }
    }
    if (rows < verify_batch) {
      break;
    }
  }
  if (auto problem = checker.finish(head)) {
    return audit_verification{checker.entries(), problem};
  }
  // A row past the head is either a concurrent append that committed since, or one no append wrote; the head,
  // read again, tells which.
  if (auto beyond = first_row_after(conn, head.seq)) {
    if (read_head(conn, false).seq < *beyond) {
      return audit_verification{checker.entries(), audit_problem{*beyond, audit_fault::beyond_head}};
    }
  }
  return audit_verification{checker.entries(), std::nullopt};
}

audit_page audit_log::list(sql::Connection& conn, const audit_filter& filter, std::size_t limit,
                           const std::string& cursor) const {
  if (limit == 0 || limit > max_page_size) {
    throw std::invalid_argument("audit list limit must be between 1 and " + std::to_string(max_page_size));
  }
  std::string statement = std::string("SELECT ") + row_columns + " FROM audit_log WHERE TRUE";
  std::vector<std::variant<std::string, std::uint64_t>> params;
  if (filter.actor_kind) {
    statement += " AND actor_kind = ?";
    params.emplace_back(std::string(to_string(*filter.actor_kind)));
  }
  if (filter.actor_id) {
    statement += " AND actor_id = ?";
    params.emplace_back(*filter.actor_id);
  }
  if (filter.action) {
    statement += filter.action_prefix ? " AND action LIKE ? ESCAPE '!'" : " AND action = ?";
    params.emplace_back(filter.action_prefix ? like_prefix(*filter.action) : *filter.action);
  }
  if (filter.target) {
    statement += " AND target = ?";
    params.emplace_back(*filter.target);
  }
  if (filter.from) {
    statement += " AND at >= ?";
    params.emplace_back(format_sql_datetime(*filter.from));
  }
  if (filter.to) {
    statement += " AND at < ?";
    params.emplace_back(format_sql_datetime(*filter.to));
  }
  if (!cursor.empty()) {
    statement += " AND seq < ?";
    params.emplace_back(decode_audit_cursor(cursor));
  }
  statement += " ORDER BY seq DESC LIMIT ?";
  // One row more than asked says whether another page follows.
  params.emplace_back(static_cast<std::uint64_t>(limit + 1));

  auto ps = prepare(conn, statement);
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto index = static_cast<unsigned int>(i + 1);
    if (const auto* text = std::get_if<std::string>(&params[i])) {
      ps->setString(index, *text);
    } else {
      ps->setUInt64(index, std::get<std::uint64_t>(params[i]));
    }
  }
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  audit_page page;
  while (rs->next()) {
    page.items.push_back(read_record(*rs));
  }
  if (page.items.size() > limit) {
    page.items.pop_back();
    page.next_cursor = encode_audit_cursor(page.items.back().seq);
  }
  return page;
}

}  // namespace derpmgr::controller::audit
