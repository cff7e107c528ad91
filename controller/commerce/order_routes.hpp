#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::commerce {

// GET /api/v1/admin/orders (orders:read; ?status=&user_id=&source=&limit=&cursor=), POST
// /api/v1/admin/orders/{id}/cancel and /refund (orders:write; audited), GET /api/v1/me/orders, and
// GET /api/v1/admin/orders/export?format=csv with the list's filters (finance:read: a bulk export of revenue is
// finance data, as the summary is).
void add_order_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::commerce
