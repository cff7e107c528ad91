#include "controller/audit/audit_routes.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse_query.hpp>
#include <charconv>
#include <set>

#include "controller/audit/audit_cursor.hpp"
#include "controller/audit/audit_errors.hpp"
#include "controller/audit/utf8_text.hpp"
#include "controller/db/connection_pool.hpp"

namespace derpmgr::controller::audit {

namespace {

constexpr std::size_t max_action_chars = 64;
constexpr std::size_t max_target_chars = 128;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw http::api_error(400, "invalid_field", field + " " + why, field);
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// Reads `count` decimal digits at `pos`; false when any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) {
    return false;
  }
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// An RFC 3339 date-time ("2026-11-28T17:59:28Z", "2026-11-28T17:59:28.5+08:00"), to the microsecond (further
// digits are dropped); nullopt for anything else, including years outside what DATETIME holds.
std::optional<time_point> parse_rfc3339(std::string_view text) {
  if (text.size() < 20) {
    return std::nullopt;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  bool shape = read_digits(text, 0, 4, year) && text[4] == '-' && read_digits(text, 5, 2, month) && text[7] == '-' &&
               read_digits(text, 8, 2, day) && (text[10] == 'T' || text[10] == 't') && read_digits(text, 11, 2, hour) &&
               text[13] == ':' && read_digits(text, 14, 2, minute) && text[16] == ':' &&
               read_digits(text, 17, 2, second);
  if (!shape) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      if (digits < 6) {
        micros = micros * 10 + (text[pos] - '0');
      }
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (; digits < 6; ++digits) {
      micros *= 10;
    }
  }
  int offset_minutes = 0;
  if (pos + 1 == text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    offset_minutes = 0;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') && text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!read_digits(text, pos + 1, 2, oh) || !read_digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (text[pos] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                   std::chrono::day{static_cast<unsigned>(day)}};
  if (year < 1000 || !date.ok() || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  return time_point{std::chrono::sys_days{date}.time_since_epoch() + std::chrono::hours{hour} +
                    std::chrono::minutes{minute - offset_minutes} + std::chrono::seconds{second} +
                    std::chrono::microseconds{micros}};
}

net::awaitable<http::response> list_page(db::connection_pool* pool, audit_list_query query) {
  // The closure holds pointers only and returns nothing: g++ 12 has mishandled both closures with std::string
  // members and non-trivial results crossing the pool's coroutine frames (each caught by ASan).
  const audit_list_query* q = &query;
  audit_page page;
  audit_page* out = &page;
  co_await pool->run(
      [q, out](sql::Connection& conn) { *out = audit_log{}.list(conn, q->filter, q->limit, q->cursor); });
  co_return http::response::json(200, boost::json::serialize(to_json(page)));
}

}  // namespace

audit_list_query parse_audit_list_query(const http::request& req) {
  auto parsed = boost::urls::parse_query(req.query);
  if (!parsed) {
    throw http::api_error(400, "invalid_query", "the query string is malformed");
  }
  audit_list_query query;
  std::set<std::string> seen;
  const boost::urls::encoding_opts form_encoding(true);
  for (const auto& param : *parsed) {
    const std::string name = param.key.decode(form_encoding);
    const std::string value = param.value.decode(form_encoding);
    if (!seen.insert(name).second) {
      bad(name, "is given more than once");
    }
    if (name == "limit") {
      auto limit = parse_unsigned(value);
      if (!limit || *limit < 1 || *limit > audit_log::max_page_size) {
        bad(name, "must be an integer from 1 to " + std::to_string(audit_log::max_page_size));
      }
      query.limit = static_cast<std::size_t>(*limit);
    } else if (name == "cursor") {
      try {
        decode_audit_cursor(value);
      } catch (const invalid_audit_cursor&) {
        bad(name, "is not a cursor from a previous page");
      }
      query.cursor = value;
    } else if (name == "action") {
      bool prefix = !value.empty() && value.back() == '*';
      auto action = prefix ? value.substr(0, value.size() - 1) : value;
      if ((action.empty() && !prefix) || !fits_utf8(action, max_action_chars)) {
        bad(name, "must be an action name of at most 64 characters, or a prefix ending in '*'");
      }
      query.filter.action = action;
      query.filter.action_prefix = prefix;
    } else if (name == "actor_kind") {
      query.filter.actor_kind = parse_audit_actor(value);
      if (!query.filter.actor_kind) {
        bad(name, "must be one of admin, customer, system, agent");
      }
    } else if (name == "actor_id") {
      query.filter.actor_id = parse_unsigned(value);
      if (!query.filter.actor_id || *query.filter.actor_id == 0) {
        bad(name, "must be a positive integer");
      }
    } else if (name == "target") {
      if (value.empty() || !fits_utf8(value, max_target_chars)) {
        bad(name, "must be 1 to 128 characters of UTF-8");
      }
      query.filter.target = value;
    } else if (name == "from" || name == "to") {
      auto at = parse_rfc3339(value);
      if (!at) {
        bad(name, "must be an RFC 3339 time such as 2026-01-31T23:59:59Z");
      }
      (name == "from" ? query.filter.from : query.filter.to) = at;
    } else {
      throw http::api_error(400, "unknown_parameter", "unknown query parameter " + name, name);
    }
  }
  if (query.filter.from && query.filter.to && *query.filter.to <= *query.filter.from) {
    bad("to", "must be later than from");
  }
  return query;
}

net::awaitable<http::response> handle_audit_list(db::connection_pool& pool, const http::request& req) {
  return list_page(&pool, parse_audit_list_query(req));
}

}  // namespace derpmgr::controller::audit
