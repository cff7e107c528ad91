#include "controller/commerce/serial_routes.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "controller/accounts/email_address.hpp"
#include "controller/accounts/user_repository.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/auth/server_keys.hpp"
#include "controller/commerce/csv_writer.hpp"
#include "controller/commerce/plan_repository.hpp"
#include "controller/commerce/purchase.hpp"
#include "controller/commerce/serial_code.hpp"
#include "controller/commerce/serial_repository.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/statements.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/hashing.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/secret_box.hpp"

namespace derpmgr::controller::commerce {

namespace json = boost::json;
using http::api_error;

namespace {

constexpr int max_batch = 10000;

std::string lookup_hash(const app_services& s, const std::string& canonical) {
  return to_hex(hmac_sha256(s.keys.serial_lookup_key(), canonical));
}

net::awaitable<http::response> create_batch(app_services* s, http::request req, auth::principal who) {
  auto body = http::parse_json_object(req);
  auto plan_id = static_cast<std::uint64_t>(http::require_int(body, "plan_id", 1, INT64_MAX));
  auto count = static_cast<int>(http::require_int(body, "count", 1, max_batch));
  std::optional<std::int64_t> price;
  if (auto it = body.find("price_cents"); it != body.end() && !it->value().is_null()) {
    price = http::require_int(body, "price_cents", 0, 1000000000);
  }
  auto note = http::optional_string(body, "note", 255).value_or("");
  auto channel = http::optional_string(body, "channel", 64).value_or("");
  std::optional<time_point> expires_at;
  if (auto days = body.find("expires_in_days"); days != body.end() && !days->value().is_null()) {
    expires_at = s->clk.now() + std::chrono::hours(24 * http::require_int(body, "expires_in_days", 1, 3650));
  }
  std::vector<std::string> codes;
  codes.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    codes.push_back(serial_code::generate());
  }
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "serials.batch_created", "");
  auto unit = [s, plan_id, count, price, note, channel, expires_at, codes, now, event,
               admin = who.id](sql::Connection& conn) mutable {
    auto plan = plan_repository::by_id(conn, plan_id);
    if (!plan) {
      throw api_error(400, "invalid_field", "no such plan", "plan_id");
    }
    auto batch = serial_repository::insert_batch(conn, plan_id, price.value_or(plan->terms.price_cents), count, note,
                                                 channel, expires_at, admin, now);
    for (const auto& code : codes) {
      auto sealed = to_hex(secret_box::seal(s->keys.serial_key(), code, "serial:" + std::to_string(batch)));
      serial_repository::insert_serial(conn, batch, lookup_hash(*s, code), sealed, serial_code::last_four(code),
                                       expires_at, now);
    }
    event.target = "serial_batch:" + std::to_string(batch);
    event.details = json::object{{"plan_id", plan_id}, {"count", count}, {"note", note}, {"channel", channel}};
    s->audit(conn, event);
    return batch;
  };
  auto batch = co_await s->pool.transact(std::move(unit));
  json::array list;
  for (const auto& c : codes) {
    list.emplace_back(c);
  }
  co_return http::response::json(201, json::serialize(json::object{{"batch_id", batch}, {"codes", std::move(list)}}));
}

net::awaitable<http::response> revoke_batch(app_services* s, http::request req, auth::principal who) {
  auto batch = http::id_param(req);
  auto event = auth::audit_for(req, "admin", who.id, "serials.batch_revoked", "serial_batch:" + std::to_string(batch));
  auto unit = [s, batch, event](sql::Connection& conn) mutable {
    int revoked = serial_repository::revoke_batch(conn, batch);
    event.details = json::object{{"revoked", revoked}};
    s->audit(conn, event);
    return revoked;
  };
  auto revoked = co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(json::object{{"batch_id", batch}, {"revoked", revoked}}));
}

enum class redeem_outcome { redeemed, unknown, used, revoked, expired };

struct redeem_result {
  redeem_outcome outcome = redeem_outcome::unknown;
  std::string order_number;
  std::uint64_t rental_id = 0;
  std::string kind;
  time_point expires_at{};
};

net::awaitable<http::response> redeem(app_services* s, http::request req, auth::principal who) {
  auto body = http::parse_json_object(req);
  auto typed = http::require_string(body, "serial", 64);
  auth::limit_attempt(*s, req, "redeem", std::to_string(who.id));
  auto canonical = serial_code::normalize(typed);
  auto now = s->clk.now();
  auto ip = req.remote_ip;
  auto ua = auth::user_agent_of(req);
  auto user_id = who.id;
  if (!canonical) {
    auto unit = [user_id, ip, ua, now](sql::Connection& conn) {
      serial_repository::record_attempt(conn, user_id, std::nullopt, "malformed", ip, ua, now);
    };
    co_await s->pool.run(std::move(unit));
    throw api_error(400, "invalid_serial", "this is not a valid serial number (check for a typo)", "serial");
  }
  auto hash = lookup_hash(*s, *canonical);
  auto event = auth::audit_for(req, "customer", user_id, "serial.redeemed", "user:" + std::to_string(user_id));
  auto unit = [s, hash, user_id, ip, ua, now, event](sql::Connection& conn) mutable {
    redeem_result result;
    auto serial = serial_repository::by_lookup(conn, hash);
    if (!serial) {
      serial_repository::record_attempt(conn, user_id, std::nullopt, "unknown", ip, ua, now);
      return result;
    }
    if (!serial_repository::claim(conn, serial->id, user_id, now)) {
      result.outcome = serial->status == "revoked"                          ? redeem_outcome::revoked
                       : serial->status == "redeemed"                       ? redeem_outcome::used
                       : (serial->expires_at && *serial->expires_at <= now) ? redeem_outcome::expired
                                                                            : redeem_outcome::used;
      serial_repository::record_attempt(conn, user_id, serial->id, "refused", ip, ua, now);
      return result;
    }
    auto plan = plan_repository::by_id(conn, serial->plan_id);
    auto bought = apply_purchase(conn, user_id, *plan, "serial", serial->id, serial->price_cents, now);
    result.kind = bought.kind;
    result.order_number = bought.order_number;
    serial_repository::record_attempt(conn, user_id, serial->id, "redeemed", ip, ua, now);
    event.details = json::object{{"serial_id", serial->id}, {"order", result.order_number}, {"kind", result.kind}};
    s->audit(conn, event);
    result.outcome = redeem_outcome::redeemed;
    result.rental_id = bought.rental_id;
    result.expires_at = bought.expires_at;
    return result;
  };
  auto result = co_await s->pool.transact(std::move(unit));
  switch (result.outcome) {
    case redeem_outcome::redeemed:
      auth::clear_attempts(*s, "redeem", std::to_string(user_id));
      s->wake_placement();  // a new rental, or one renewed after it expired, needs its servers
      co_return http::response::json(200, json::serialize(json::object{{"order", result.order_number},
                                                                       {"kind", result.kind},
                                                                       {"rental_id", result.rental_id},
                                                                       {"expires_at", format_rfc3339(result.expires_at)}}));
    case redeem_outcome::used:
      throw api_error(409, "serial_used", "this serial number has already been redeemed", "serial");
    case redeem_outcome::revoked:
      throw api_error(410, "serial_revoked", "this serial number was revoked", "serial");
    case redeem_outcome::expired:
      throw api_error(410, "serial_expired", "this serial number has expired", "serial");
    case redeem_outcome::unknown:
      break;
  }
  throw api_error(404, "unknown_serial", "no such serial number", "serial");
}

// The ?redeemer= filter: a user id (stored in `user_id`), or an email address returned for lookup.
std::optional<std::string> redeemer_email(const std::string& redeemer, std::uint64_t& user_id) {
  if (redeemer.empty()) {
    return std::nullopt;
  }
  if (redeemer.find_first_not_of("0123456789") == std::string::npos && redeemer.size() < 20) {
    user_id = std::stoull(redeemer);
    if (user_id == 0) {
      throw api_error(400, "invalid_field", "redeemer must be a user id or an email address", "redeemer");
    }
    return std::nullopt;
  }
  auto email = accounts::normalize_email(redeemer);
  if (!email) {
    throw api_error(400, "invalid_field", "redeemer must be a user id or an email address", "redeemer");
  }
  return email;
}

net::awaitable<http::response> list_serials(app_services* s, http::request req, auth::principal) {
  auto q = http::parse_query(req.query);
  serial_filter f;
  f.limit = http::limit_param(q, 100, 1000);
  f.status = q["status"];
  if (!f.status.empty() && f.status != "unused" && f.status != "redeemed" && f.status != "revoked" &&
      f.status != "expired") {
    throw api_error(400, "invalid_field", "status must be unused, redeemed, revoked or expired", "status");
  }
  f.batch_id = static_cast<std::uint64_t>(http::int_param(q, "batch_id", 1, INT64_MAX).value_or(0));
  f.plan_id = static_cast<std::uint64_t>(http::int_param(q, "plan_id", 1, INT64_MAX).value_or(0));
  f.before_id = static_cast<std::uint64_t>(http::int_param(q, "cursor", 1, INT64_MAX).value_or(INT64_MAX));
  auto email = redeemer_email(q["redeemer"], f.redeemed_by);
  auto now = s->clk.now();
  auto unit = [f, email, now](sql::Connection& conn) mutable {
    json::array items;
    if (email) {
      auto user = accounts::user_repository::by_email(conn, *email);
      if (!user) {
        return json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
      }
      f.redeemed_by = user->id;
    }
    auto rows = serial_repository::list(conn, f, now);
    bool more = static_cast<int>(rows.size()) > f.limit;
    if (more) {
      rows.pop_back();
    }
    auto when = [](const std::optional<time_point>& t) {
      return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
    };
    for (const auto& r : rows) {
      items.emplace_back(json::object{
          {"id", r.id},
          {"batch_id", r.batch_id},
          {"plan_id", r.plan_id},
          {"last_four", r.last_four},
          {"status", r.status},
          {"redeemed_by", r.redeemed_by ? json::value(*r.redeemed_by) : json::value(nullptr)},
          {"redeemed_at", when(r.redeemed_at)},
          {"expires_at", when(r.expires_at)}});
    }
    return json::serialize(json::object{
        {"items", std::move(items)},
        {"next_cursor", more ? json::value(std::to_string(rows.back().id)) : json::value(nullptr)}});
  };
  co_return http::response::json(200, co_await s->pool.run(std::move(unit)));
}

net::awaitable<http::response> list_batches(app_services* s, http::request req, auth::principal) {
  auto q = http::parse_query(req.query);
  auto limit = http::limit_param(q, 50, 500);
  auto plan_id = static_cast<std::uint64_t>(http::int_param(q, "plan_id", 1, INT64_MAX).value_or(0));
  auto before = static_cast<std::uint64_t>(http::int_param(q, "cursor", 1, INT64_MAX).value_or(INT64_MAX));
  auto now = s->clk.now();
  auto unit = [plan_id, before, limit, now](sql::Connection& conn) {
    auto rows = serial_repository::list_batches(conn, plan_id, before, limit + 1, now);
    bool more = static_cast<int>(rows.size()) > limit;
    if (more) {
      rows.pop_back();
    }
    json::array items;
    for (const auto& b : rows) {
      items.emplace_back(json::object{
          {"id", b.id},
          {"plan_id", b.plan_id},
          {"price_cents", b.price_cents},
          {"count", b.count},
          {"note", b.note},
          {"channel", b.channel},
          {"expires_at", b.expires_at ? json::value(format_rfc3339(*b.expires_at)) : json::value(nullptr)},
          {"created_at", format_rfc3339(b.created_at)},
          {"unused", b.unused},
          {"redeemed", b.redeemed},
          {"revoked", b.revoked},
          {"expired", b.expired}});
    }
    return json::serialize(json::object{
        {"items", std::move(items)},
        {"next_cursor", more ? json::value(std::to_string(rows.back().id)) : json::value(nullptr)}});
  };
  co_return http::response::json(200, co_await s->pool.run(std::move(unit)));
}

// Revokes one unused code (audited); a redeemed code has been paid for and is never revoked.
net::awaitable<http::response> revoke_serial(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto event = auth::audit_for(req, "admin", who.id, "serial.revoked", "serial:" + std::to_string(id));
  auto unit = [s, id, event](sql::Connection& conn) mutable {
    auto status = serial_repository::revoke_one(conn, id);
    if (!status) {
      throw api_error(404, "not_found", "no such serial");
    }
    if (*status == "redeemed") {
      throw api_error(409, "serial_redeemed", "this serial has been redeemed and cannot be revoked");
    }
    if (*status == "revoked") {
      throw api_error(409, "serial_already_revoked", "this serial is already revoked");
    }
    s->audit(conn, event);
  };
  co_await s->pool.transact(std::move(unit));
  co_return http::response::json(200, json::serialize(json::object{{"id", id}, {"status", "revoked"}}));
}

// Owner re-export of a batch's unredeemed codes (decrypted), as JSON, CSV or one code per line; audited.
net::awaitable<http::response> export_batch(app_services* s, http::request req, auth::principal who) {
  auto batch = http::id_param(req);
  auto q = http::parse_query(req.query);
  auto format = q["format"].empty() ? std::string("json") : q["format"];
  if (format != "json" && format != "csv" && format != "text") {
    throw api_error(400, "invalid_field", "format must be json, csv or text", "format");
  }
  auto event = auth::audit_for(req, "admin", who.id, "serials.exported", "serial_batch:" + std::to_string(batch));
  event.details = json::object{{"format", format}};
  auto unit = [s, batch, event](sql::Connection& conn) {
    auto ps = db::prepare(conn, "SELECT code_sealed FROM serials WHERE batch_id = ? AND status = 'unused' ORDER BY id");
    ps->setUInt64(1, batch);
    std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
    std::vector<std::string> codes;
    while (rs->next()) {
      codes.push_back(secret_box::open(s->keys.serial_key(), from_hex(std::string(rs->getString(1))),
                                       "serial:" + std::to_string(batch)));
    }
    s->audit(conn, event);
    return codes;
  };
  auto codes = co_await s->pool.transact(std::move(unit));
  if (format == "text") {
    std::string out;
    for (const auto& c : codes) {
      out += c + "\n";
    }
    co_return http::response::text(200, out);
  }
  if (format == "csv") {
    csv_writer csv({"code", "batch_id"});
    for (const auto& c : codes) {
      csv.row({c, std::to_string(batch)});
    }
    co_return csv_download("serials-batch-" + std::to_string(batch) + ".csv", csv.text());
  }
  co_return http::response::json(200, json::serialize(json::object{{"batch_id", batch},
                                                                   {"codes", json::value_from(codes)}}));
}

}  // namespace

void add_serial_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/serials/batches", "serials:write", create_batch);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/serials/batches/{id}/revoke", "serials:write",
                        revoke_batch);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/serials", "serials:read", list_serials);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/serials/batches", "serials:read", list_batches);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/serials/{id}/revoke", "serials:write",
                        revoke_serial);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/serials/batches/{id}/export", "serials:export",
                        export_batch);
  auth::add_customer_route(routes, services, "POST", "/api/v1/me/redeem", "rental:write", true, redeem);
}

}  // namespace derpmgr::controller::commerce
