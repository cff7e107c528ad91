#include "controller/notify/outbox.hpp"

#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "controller/notify/message_format.hpp"
#include "shared/tls/random.hpp"

namespace derpmgr::controller::notify {

namespace {

constexpr std::size_t max_page = 200;
constexpr std::size_t max_error_length = 512;

constexpr const char* entry_columns =
    "id, created_at, recipient, template, locale, subject, status, attempts, next_attempt_at, claimed_until, "
    "last_error, sent_at";

std::unique_ptr<sql::PreparedStatement> prepare(sql::Connection& conn, const std::string& text) {
  return std::unique_ptr<sql::PreparedStatement>(conn.prepareStatement(text));
}

std::optional<time_point> optional_time(sql::ResultSet& rs, const char* column) {
  if (rs.isNull(column)) {
    return std::nullopt;
  }
  return parse_sql_datetime(std::string(rs.getString(column)));
}

outbox_entry read_entry(sql::ResultSet& rs) {
  outbox_entry e;
  e.id = rs.getUInt64("id");
  e.created_at = parse_sql_datetime(std::string(rs.getString("created_at")));
  e.recipient = rs.getString("recipient");
  e.template_name = rs.getString("template");
  e.locale = rs.getString("locale");
  e.subject = rs.getString("subject");
  auto status = parse_outbox_status(std::string(rs.getString("status")));
  if (!status) {
    throw std::logic_error("email_outbox row " + std::to_string(e.id) + " has an unknown status");
  }
  e.status = *status;
  e.attempts = rs.getInt("attempts");
  e.next_attempt_at = parse_sql_datetime(std::string(rs.getString("next_attempt_at")));
  e.claimed_until = optional_time(rs, "claimed_until");
  e.last_error = rs.isNull("last_error") ? std::string() : std::string(rs.getString("last_error"));
  e.sent_at = optional_time(rs, "sent_at");
  return e;
}

// Cursors are opaque to clients: the hex of "o<last id>".
std::string encode_cursor(std::uint64_t id) {
  return to_hex("o" + std::to_string(id));
}

std::uint64_t decode_cursor(const std::string& cursor) {
  if (cursor.size() < 4 || cursor.size() > 48 || cursor.size() % 2 != 0) {
    throw invalid_cursor("invalid cursor");
  }
  std::string text;
  for (std::size_t i = 0; i < cursor.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(cursor.data() + i, cursor.data() + i + 2, value, 16);
    if (ec != std::errc() || end != cursor.data() + i + 2) {
      throw invalid_cursor("invalid cursor");
    }
    text += static_cast<char>(value);
  }
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), id);
  if (text.front() != 'o' || ec != std::errc() || end != text.data() + text.size()) {
    throw invalid_cursor("invalid cursor");
  }
  return id;
}

// At most max_error_length bytes, cut before a UTF-8 continuation byte so the column stays valid utf8mb4.
std::string truncate_error(const std::string& error) {
  if (error.size() <= max_error_length) {
    return error;
  }
  std::size_t end = max_error_length;
  while (end > 0 && (static_cast<unsigned char>(error[end]) & 0xc0) == 0x80) {
    --end;
  }
  return error.substr(0, end);
}

std::string placeholders(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += i == 0 ? "?" : ", ?";
  }
  return out;
}

// Ids matching `condition` (one datetime parameter: now) in `order`, locked, skipping rows other workers hold.
std::vector<std::uint64_t> lock_due(sql::Connection& conn, const std::string& condition, const std::string& order,
                                    time_point now, std::size_t limit) {
  auto ps = prepare(conn, "SELECT id FROM email_outbox WHERE " + condition + " ORDER BY " + order +
                              " LIMIT ? FOR UPDATE SKIP LOCKED");
  ps->setDateTime(1, format_sql_datetime(now));
  ps->setUInt64(2, limit);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<std::uint64_t> ids;
  while (rs->next()) {
    ids.push_back(rs->getUInt64(1));
  }
  return ids;
}

}  // namespace

std::string_view to_string(outbox_status status) {
  switch (status) {
    case outbox_status::pending:
      return "pending";
    case outbox_status::sending:
      return "sending";
    case outbox_status::sent:
      return "sent";
    case outbox_status::failed:
      return "failed";
  }
  throw std::logic_error("unknown outbox status");
}

std::optional<outbox_status> parse_outbox_status(std::string_view text) {
  for (auto s : {outbox_status::pending, outbox_status::sending, outbox_status::sent, outbox_status::failed}) {
    if (to_string(s) == text) {
      return s;
    }
  }
  return std::nullopt;
}

std::uint64_t outbox::enqueue(sql::Connection& conn, const std::string& recipient, const std::string& template_name,
                              const std::string& locale, const template_vars& vars, time_point now) const {
  if (!is_plain_address(recipient)) {
    throw invalid_recipient("the recipient is not a plain email address");
  }
  auto mail = render_email(template_name, locale, vars);
  auto ps = prepare(conn,
                    "INSERT INTO email_outbox (created_at, recipient, template, locale, subject, body_text, status, "
                    "attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)");
  ps->setDateTime(1, format_sql_datetime(now));
  ps->setString(2, recipient);
  ps->setString(3, mail.template_name);
  ps->setString(4, mail.locale);
  ps->setString(5, mail.subject);
  ps->setString(6, mail.body_text);
  ps->setDateTime(7, format_sql_datetime(now));
  ps->executeUpdate();
  std::unique_ptr<sql::Statement> st(conn.createStatement());
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery("SELECT LAST_INSERT_ID()"));
  rs->next();
  return rs->getUInt64(1);
}

outbox_page outbox::list(sql::Connection& conn, const outbox_filter& filter) const {
  std::size_t limit = std::clamp<std::size_t>(filter.limit, 1, max_page);
  std::string where = "1 = 1";
  if (filter.status) {
    where += " AND status = ?";
  }
  if (!filter.recipient.empty()) {
    where += " AND recipient = ?";
  }
  std::optional<std::uint64_t> after;
  if (!filter.cursor.empty()) {
    after = decode_cursor(filter.cursor);
    where += " AND id < ?";
  }
  auto ps = prepare(
      conn, std::string("SELECT ") + entry_columns + " FROM email_outbox WHERE " + where + " ORDER BY id DESC LIMIT ?");
  int index = 1;
  if (filter.status) {
    ps->setString(index++, std::string(to_string(*filter.status)));
  }
  if (!filter.recipient.empty()) {
    ps->setString(index++, filter.recipient);
  }
  if (after) {
    ps->setUInt64(index++, *after);
  }
  ps->setUInt64(index, limit + 1);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  outbox_page page;
  while (rs->next()) {
    page.items.push_back(read_entry(*rs));
  }
  if (page.items.size() > limit) {
    page.items.resize(limit);
    page.next_cursor = encode_cursor(page.items.back().id);
  }
  return page;
}

std::optional<outbox_entry> outbox::find(sql::Connection& conn, std::uint64_t id) const {
  auto ps = prepare(conn, std::string("SELECT ") + entry_columns + " FROM email_outbox WHERE id = ?");
  ps->setUInt64(1, id);
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  if (!rs->next()) {
    return std::nullopt;
  }
  return read_entry(*rs);
}

resend_result outbox::resend(sql::Connection& conn, std::uint64_t id, time_point now) const {
  auto ps = prepare(conn,
                    "UPDATE email_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
                    "claimed_until = NULL, claim_token = NULL, sent_at = NULL "
                    "WHERE id = ? AND status IN ('sent', 'failed')");
  ps->setDateTime(1, format_sql_datetime(now));
  ps->setUInt64(2, id);
  if (ps->executeUpdate() == 1) {
    return resend_result::queued;
  }
  return find(conn, id) ? resend_result::not_resendable : resend_result::not_found;
}

outbox_claim outbox::claim_due(sql::Connection& conn, time_point now, std::size_t limit,
                               std::chrono::microseconds lease) const {
  outbox_claim claim;
  claim.token = random_hex(16);
  auto ids = lock_due(conn, "status = 'sending' AND claimed_until <= ?", "claimed_until, id", now, limit);
  if (ids.size() < limit) {
    auto due =
        lock_due(conn, "status = 'pending' AND next_attempt_at <= ?", "next_attempt_at, id", now, limit - ids.size());
    ids.insert(ids.end(), due.begin(), due.end());
  }
  if (ids.empty()) {
    return claim;
  }
  auto update = prepare(conn,
                        "UPDATE email_outbox SET status = 'sending', claimed_until = ?, claim_token = ? "
                        "WHERE id IN (" +
                            placeholders(ids.size()) +
                            ") AND ((status = 'pending' AND "
                            "next_attempt_at <= ?) OR (status = 'sending' AND claimed_until <= ?))");
  int index = 1;
  update->setDateTime(index++, format_sql_datetime(now + lease));
  update->setString(index++, claim.token);
  for (auto id : ids) {
    update->setUInt64(index++, id);
  }
  update->setDateTime(index++, format_sql_datetime(now));
  update->setDateTime(index, format_sql_datetime(now));
  update->executeUpdate();

  auto select = prepare(conn,
                        "SELECT id, created_at, recipient, subject, body_text, attempts FROM email_outbox "
                        "WHERE id IN (" +
                            placeholders(ids.size()) + ") AND claim_token = ? ORDER BY id");
  index = 1;
  for (auto id : ids) {
    select->setUInt64(index++, id);
  }
  select->setString(index, claim.token);
  std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
  while (rs->next()) {
    claimed_message m;
    m.id = rs->getUInt64("id");
    m.created_at = parse_sql_datetime(std::string(rs->getString("created_at")));
    m.recipient = rs->getString("recipient");
    m.subject = rs->getString("subject");
    m.body_text = rs->getString("body_text");
    m.attempts = rs->getInt("attempts");
    claim.messages.push_back(std::move(m));
  }
  return claim;
}

bool outbox::mark_sent(sql::Connection& conn, std::uint64_t id, const std::string& token, time_point now) const {
  auto ps = prepare(conn,
                    "UPDATE email_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
                    "claimed_until = NULL, claim_token = NULL WHERE id = ? AND status = 'sending' AND claim_token = ?");
  ps->setDateTime(1, format_sql_datetime(now));
  ps->setUInt64(2, id);
  ps->setString(3, token);
  return ps->executeUpdate() == 1;
}

bool outbox::mark_failed(sql::Connection& conn, std::uint64_t id, const std::string& token, const std::string& error,
                         std::optional<time_point> retry_at) const {
  auto ps = prepare(conn,
                    "UPDATE email_outbox SET status = ?, attempts = attempts + 1, last_error = ?, "
                    "next_attempt_at = COALESCE(?, next_attempt_at), claimed_until = NULL, claim_token = NULL "
                    "WHERE id = ? AND status = 'sending' AND claim_token = ?");
  ps->setString(1, retry_at ? "pending" : "failed");
  ps->setString(2, truncate_error(error));
  if (retry_at) {
    ps->setDateTime(3, format_sql_datetime(*retry_at));
  } else {
    ps->setNull(3, sql::DataType::TIMESTAMP);
  }
  ps->setUInt64(4, id);
  ps->setString(5, token);
  return ps->executeUpdate() == 1;
}

bool outbox::release(sql::Connection& conn, std::uint64_t id, const std::string& token) const {
  auto ps = prepare(conn,
                    "UPDATE email_outbox SET status = 'pending', claimed_until = NULL, claim_token = NULL "
                    "WHERE id = ? AND status = 'sending' AND claim_token = ?");
  ps->setUInt64(1, id);
  ps->setString(2, token);
  return ps->executeUpdate() == 1;
}

}  // namespace derpmgr::controller::notify
