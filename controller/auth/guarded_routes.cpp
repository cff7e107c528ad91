#include "controller/auth/guarded_routes.hpp"

#include "controller/auth/authenticator.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller::auth {

namespace {

net::awaitable<http::response> run_admin(app_services* s, http::request req, std::string permission,
                                         guarded_handler handler) {
  auto who = co_await s->authn.require(req, principal_kind::admin);
  require_permission(who, permission);
  co_return co_await handler(s, std::move(req), std::move(who));
}

net::awaitable<http::response> run_customer(app_services* s, http::request req, std::string scope, bool verified_only,
                                            guarded_handler handler) {
  auto who = co_await s->authn.require(req, principal_kind::customer);
  if (!scope.empty()) {
    require_permission(who, scope);
  }
  if (verified_only && !who.email_verified) {
    throw http::api_error(403, "email_not_verified", "verify your email address first");
  }
  co_return co_await handler(s, std::move(req), std::move(who));
}

}  // namespace

void add_admin_route(http::router& routes, app_services& services, const std::string& method, const std::string& path,
                     std::string permission, guarded_handler handler) {
  auto* s = &services;
  routes.add(method, path,
             [s, permission, handler](http::request& req) { return run_admin(s, req, permission, handler); });
}

void add_customer_route(http::router& routes, app_services& services, const std::string& method,
                        const std::string& path, std::string scope, bool verified_only, guarded_handler handler) {
  auto* s = &services;
  routes.add(method, path, [s, scope, verified_only, handler](http::request& req) {
    return run_customer(s, req, scope, verified_only, handler);
  });
}

}  // namespace derpmgr::controller::auth
