#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::auth {

// GET/POST /api/v1/me/api-tokens, DELETE /api/v1/me/api-tokens/{id} for customers, and the same under
// /api/v1/admin/api-tokens for admins (permission tokens:write; scopes limited to what the admin holds).
void add_api_token_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::auth
