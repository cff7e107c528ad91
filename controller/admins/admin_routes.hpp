#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::admins {

// /api/v1/admin/auth/* (login, logout, MFA enrolment, /admin/me) and admin, role, user and token management.
// Every management endpoint requires a completed MFA session (or an admin API token) and one permission.
void add_admin_routes(http::router& routes, app_services& services);

// `derpmgr-controller admin create`: makes an admin with `role` (built-in roles are synced first).
// Throws std::runtime_error with a one-line reason.
void create_admin(app_services& services, const std::string& email, const std::string& password,
                  const std::string& role);

}  // namespace derpmgr::controller::admins
