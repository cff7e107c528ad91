#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::commerce {

// Admin plan management (/api/v1/admin/plans: list and show with plans:read, create and update with plans:write,
// audited) and the public list of active plans (GET /api/v1/plans).
void add_plan_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::commerce
