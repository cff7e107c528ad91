#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::commerce {

// Prepaid balance: admins top up or adjust with a reason (POST /api/v1/admin/users/{id}/balance, finance:write)
// and read the ledger (GET, finance:read); customers buy or renew a plan from it (POST /api/v1/me/renew).
void add_balance_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::commerce
