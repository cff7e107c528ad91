#include "controller/commerce/history_routes.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/accounts/user_repository.hpp"
#include "controller/app/controller_config.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/commerce/history_repository.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/http/query.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller::commerce {

namespace json = boost::json;
using http::api_error;

namespace {

json::object item_json(const history_item& h, const std::string& currency) {
  json::object o{{"type", h.type},
                 {"id", h.id},
                 {"at", format_rfc3339(h.at)},
                 {"rental_id", h.rental_id ? json::value(*h.rental_id) : json::value(nullptr)}};
  if (h.type == "order") {
    o["number"] = h.number;
    o["plan_id"] = h.plan_id;
    o["source"] = h.source;
    o["kind"] = h.kind;
    o["amount_cents"] = h.amount_cents;
    o["currency"] = currency;
    o["status"] = h.status;
  } else if (h.type == "allocation") {
    o["node_name"] = h.node_name;
    o["region"] = h.region;
    o["address"] = h.public_host;
    o["port"] = h.port;
    o["created_at"] = format_rfc3339(h.at);
    o["released_at"] = h.released_at ? json::value(format_rfc3339(*h.released_at)) : json::value(nullptr);
  } else {
    o["from_status"] = h.from_status.empty() ? json::value(nullptr) : json::value(h.from_status);
    o["to_status"] = h.to_status;
    o["reason"] = h.reason;
  }
  return o;
}

// One page of a user's history: the signed-in customer's (`customer_id`), or with 0 the user named by the path's
// {id} (404 when there is none).
net::awaitable<http::response> history_page(app_services* s, http::request req, std::uint64_t customer_id) {
  bool must_exist = customer_id == 0;
  auto user_id = must_exist ? http::id_param(req) : customer_id;
  auto q = http::parse_query(req.query);
  auto limit = http::limit_param(q, 50, 200);
  std::optional<history_cursor> after;
  if (!q["cursor"].empty()) {
    after = history_cursor::decode(q["cursor"]);
    if (!after) {
      throw api_error(400, "invalid_field", "cursor is not one this API returned", "cursor");
    }
  }
  auto currency = s->config.business_currency;
  auto unit = [user_id, must_exist, after, limit, currency](sql::Connection& conn) {
    if (must_exist && !accounts::user_repository::by_id(conn, user_id)) {
      throw api_error(404, "not_found", "no such user");
    }
    auto items = history_repository::page(conn, user_id, after, limit + 1);
    bool more = static_cast<int>(items.size()) > limit;
    if (more) {
      items.pop_back();
    }
    json::array list;
    for (const auto& h : items) {
      list.emplace_back(item_json(h, currency));
    }
    return json::serialize(json::object{
        {"items", std::move(list)},
        {"next_cursor", more ? json::value(items.back().position().encode()) : json::value(nullptr)}});
  };
  co_return http::response::json(200, co_await s->pool.run(std::move(unit)));
}

net::awaitable<http::response> my_history(app_services* s, http::request req, auth::principal who) {
  return history_page(s, std::move(req), who.id);
}

net::awaitable<http::response> user_history(app_services* s, http::request req, auth::principal) {
  return history_page(s, std::move(req), 0);
}

}  // namespace

void add_history_routes(http::router& routes, app_services& services) {
  auth::add_customer_route(routes, services, "GET", "/api/v1/me/history", "account:read", false, my_history);
  auth::add_admin_route(routes, services, "GET", "/api/v1/admin/users/{id}/history", "orders:read", user_history);
}

}  // namespace derpmgr::controller::commerce
