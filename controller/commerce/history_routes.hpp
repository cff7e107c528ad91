#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::commerce {

// GET /api/v1/me/history (the customer's own; account:read) and GET /api/v1/admin/users/{id}/history
// (orders:read): orders and rental events, newest first, ?limit= (1..200, default 50) and ?cursor= →
// {"items":[...],"next_cursor":string|null}.
void add_history_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::commerce
