#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::commerce {

// POST /api/v1/admin/serials/batches (serials:write; the codes are returned once), GET /api/v1/admin/serials/batches
// (serials:read; ?plan_id=, counts per state), POST /api/v1/admin/serials/batches/{id}/revoke and
// /api/v1/admin/serials/{id}/revoke (serials:write; audited; a redeemed code is 409 serial_redeemed), GET
// /api/v1/admin/serials (serials:read; last four characters only; ?status=&batch_id=&plan_id=&redeemer=<user id or
// email>&limit=&cursor=), GET /api/v1/admin/serials/batches/{id}/export?format=json|csv|text (serials:export, owners;
// audited) and POST /api/v1/me/redeem (verified customers).
void add_serial_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::commerce
