#include "controller/auth/api_token_routes.hpp"

#include <cppconn/connection.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "controller/auth/api_token_store.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/auth/request_guard.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/json_body.hpp"
#include "controller/http/router.hpp"
#include "shared/clock/clock.hpp"

namespace derpmgr::controller::auth {

namespace json = boost::json;
using http::api_error;
using http::request;
using http::response;

namespace {

constexpr std::int64_t max_token_days = 366;

net::awaitable<principal> caller(app_services* s, const request& req, principal_kind kind) {
  auto who = co_await s->authn.require(req, kind);
  if (kind == principal_kind::admin) {
    require_permission(who, "tokens:write");
  }
  if (who.via_token) {
    throw api_error(403, "forbidden", "API tokens cannot manage API tokens; sign in");
  }
  co_return who;
}

net::awaitable<response> list_tokens(app_services* s, request req, principal_kind kind) {
  auto who = co_await caller(s, req, kind);
  auto id = who.id;
  auto unit = [s, kind, id](sql::Connection& conn) { return s->tokens.list(conn, kind, id); };
  auto tokens = co_await s->pool.run(std::move(unit));
  json::array items;
  for (const auto& t : tokens) {
    json::array scopes;
    for (const auto& sc : t.scopes) {
      scopes.emplace_back(sc);
    }
    items.emplace_back(json::object{
        {"id", t.id},
        {"name", t.name},
        {"scopes", std::move(scopes)},
        {"created_at", format_rfc3339(t.created_at)},
        {"expires_at", format_rfc3339(t.expires_at)},
        {"last_used_at", t.last_used_at ? json::value(format_rfc3339(*t.last_used_at)) : json::value(nullptr)},
        {"revoked", t.revoked}});
  }
  co_return response::json(200, json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", nullptr}}));
}

net::awaitable<response> create_token(app_services* s, request req, principal_kind kind) {
  auto who = co_await caller(s, req, kind);
  auto body = http::parse_json_object(req);
  auto name = http::require_string(body, "name", 100);
  auto days = http::require_int(body, "expires_in_days", 1, max_token_days);
  auto it = body.find("scopes");
  if (it == body.end() || !it->value().is_array() || it->value().as_array().empty()) {
    throw api_error(400, "invalid_field", "scopes must be a non-empty list", "scopes");
  }
  std::vector<std::string> scopes;
  for (const auto& v : it->value().as_array()) {
    if (!v.is_string()) {
      throw api_error(400, "invalid_field", "scopes must be strings", "scopes");
    }
    std::string scope(v.as_string());
    if (!who.can(scope)) {
      throw api_error(400, "invalid_field", "scope " + scope + " is unknown or not yours to grant", "scopes");
    }
    if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) {
      scopes.push_back(scope);
    }
  }
  auto expires = s->clk.now() + std::chrono::hours(24 * days);
  auto id = who.id;
  auto event = audit_for(req, to_string(kind), id, "api_token.created", std::string(to_string(kind)) + ":" +
                                                                           std::to_string(id));
  event.details = json::object{{"name", name}, {"scopes", json::value_from(scopes)}, {"days", days}};
  auto unit2 = [s, kind, id, name, scopes, expires, event](sql::Connection& conn) {
    auto result = s->tokens.create(conn, kind, id, name, scopes, expires);
    s->audit(conn, event);
    return result;
  };
  auto created = co_await s->pool.transact(std::move(unit2));
  co_return response::json(201, json::serialize(json::object{{"id", created.first},
                                                             {"name", name},
                                                             {"token", created.second},
                                                             {"expires_at", format_rfc3339(expires)}}));
}

net::awaitable<response> revoke_token(app_services* s, request req, principal_kind kind) {
  auto who = co_await caller(s, req, kind);
  std::uint64_t token_id = 0;
  try {
    token_id = std::stoull(req.path_params.at("id"));
  } catch (const std::exception&) {
    throw api_error(400, "invalid_field", "id must be a positive integer", "id");
  }
  auto id = who.id;
  auto event = audit_for(req, to_string(kind), id, "api_token.revoked", "api_token:" + std::to_string(token_id));
  auto unit3 = [s, kind, id, token_id, event](sql::Connection& conn) {
    if (!s->tokens.revoke(conn, kind, id, token_id)) {
      return false;
    }
    s->audit(conn, event);
    return true;
  };
  bool done = co_await s->pool.transact(std::move(unit3));
  if (!done) {
    throw api_error(404, "not_found", "no such live token");
  }
  co_return response::json(200, R"({"status":"revoked"})");
}

}  // namespace

void add_api_token_routes(http::router& routes, app_services& services) {
  auto* s = &services;
  for (auto kind : {principal_kind::customer, principal_kind::admin}) {
    std::string base = kind == principal_kind::admin ? "/api/v1/admin/api-tokens" : "/api/v1/me/api-tokens";
    routes.add("GET", base, [s, kind](request& req) { return list_tokens(s, req, kind); });
    routes.add("POST", base, [s, kind](request& req) { return create_token(s, req, kind); });
    routes.add("DELETE", base + "/{id}", [s, kind](request& req) { return revoke_token(s, req, kind); });
  }
}

}  // namespace derpmgr::controller::auth
