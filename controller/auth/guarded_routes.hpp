#pragma once

#include <string>

#include "controller/app/app_services.hpp"
#include "controller/auth/principal.hpp"
#include "controller/http/http_types.hpp"
#include "shared/net/net.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::auth {

// A handler that runs once the caller is established and allowed.
using guarded_handler = net::awaitable<http::response> (*)(app_services*, http::request, principal);

// Registers an admin endpoint: an MFA-complete admin session (with CSRF) or an admin API token, holding
// `permission`; otherwise 401/403 before the handler runs.
void add_admin_route(http::router& routes, app_services& services, const std::string& method, const std::string& path,
                     std::string permission, guarded_handler handler);

// Registers a customer endpoint: a customer session (with CSRF) or a customer API token with `scope`; with
// `verified_only`, an unverified email gets 403 email_not_verified.
void add_customer_route(http::router& routes, app_services& services, const std::string& method,
                        const std::string& path, std::string scope, bool verified_only, guarded_handler handler);

}  // namespace derpmgr::controller::auth
