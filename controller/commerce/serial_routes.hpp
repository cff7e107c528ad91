#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::commerce {

// POST /api/v1/admin/serials/batches (serials:write; the codes are returned once), POST
// /api/v1/admin/serials/batches/{id}/revoke (serials:write) and POST /api/v1/me/redeem (verified customers).
void add_serial_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::commerce
