#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::commerce {

// GET /api/v1/admin/finance/summary (?format=json|csv) and its alias /api/v1/admin/finance/summary.csv, both
// finance:read. Months are counted in [business] time_zone from the injected clock's now; throws
// unknown_time_zone at registration when that zone is not in the OS tz database.
void add_finance_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::commerce
