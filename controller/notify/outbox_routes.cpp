#include "controller/notify/outbox_routes.hpp"

#include <cppconn/connection.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"
#include "controller/notify/outbox.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::notify {

namespace json = boost::json;

namespace {

json::value time_or_null(const std::optional<time_point>& t) {
  return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}

net::awaitable<http::response> list_outbox(app_services* s, http::request req, auth::principal) {
  auto q = http::parse_query(req.query);
  outbox_filter filter;
  filter.limit = static_cast<std::size_t>(http::limit_param(q, 50, 200));
  filter.recipient = q["recipient"];
  filter.cursor = q["cursor"];
  if (!q["status"].empty()) {
    filter.status = parse_outbox_status(q["status"]);
    if (!filter.status) {
      throw http::api_error(400, "invalid_field", "status must be pending, sending, sent or failed", "status");
    }
  }
  auto unit = [filter](sql::Connection& conn) {
    try {
      return outbox{}.list(conn, filter);
    } catch (const invalid_cursor&) {
      throw http::api_error(400, "invalid_field", "cursor is not valid", "cursor");
    }
  };
  auto page = co_await s->pool.run(std::move(unit));
  json::array items;
  for (const auto& m : page.items) {
    items.emplace_back(json::object{{"id", m.id},
                                    {"created_at", format_rfc3339(m.created_at)},
                                    {"recipient", m.recipient},
                                    {"template", m.template_name},
                                    {"locale", m.locale},
                                    {"subject", m.subject},
                                    {"status", std::string(to_string(m.status))},
                                    {"attempts", m.attempts},
                                    {"next_attempt_at", format_rfc3339(m.next_attempt_at)},
                                    {"last_error", m.last_error},
                                    {"sent_at", time_or_null(m.sent_at)}});
  }
  co_return http::response::json(
      200, json::serialize(json::object{{"items", std::move(items)},
                                        {"next_cursor", page.next_cursor.empty() ? json::value(nullptr)
                                                                                 : json::value(page.next_cursor)}}));
}

net::awaitable<http::response> resend(app_services* s, http::request req, auth::principal who) {
  auto id = http::id_param(req);
  auto now = s->clk.now();
  auto event = auth::audit_for(req, "admin", who.id, "email.resent", "email:" + std::to_string(id));
  auto unit = [s, id, now, event](sql::Connection& conn) {
    auto result = outbox{}.resend(conn, id, now);
    if (result == resend_result::queued) {
      s->audit(conn, event);
    }
    return result;
  };
  auto result = co_await s->pool.transact(std::move(unit));
  if (result == resend_result::not_found) {
    throw http::api_error(404, "not_found", "no such message");
  }
  if (result == resend_result::not_resendable) {
    throw http::api_error(409, "not_resendable", "the message is still queued or being sent");
  }
  s->wake_mailer();
  co_return http::response::json(200, R"({"status":"queued"})");
}

}  // namespace

void add_outbox_routes(http::router& routes, app_services& services) {
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/email-outbox", "email:read", list_outbox);
  auth::add_admin_route(routes, services, "POST", "/api/v1/admin/email-outbox/{id}/resend", "email:write", resend);
}

}  // namespace derpmgr::controller::notify
