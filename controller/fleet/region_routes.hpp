#pragma once

#include "controller/app/app_fwd.hpp"

namespace derpmgr::controller::fleet {

// GET /api/v1/admin/regions (nodes:read): per region its nodes and whether they are online, live allocations,
// capacity used, customers served and recent bandwidth.
void add_region_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::fleet
