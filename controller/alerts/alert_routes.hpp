#pragma once

#include "controller/app/app_fwd.hpp"

namespace derpmgr::controller::alerts {

// Admin API for alerts: GET /admin/alerts (?open=true|false, ?kind=, ?limit=, ?cursor=; nodes:read) and
// POST /admin/alerts/{id}/acknowledge (nodes:write, audited).
void add_alert_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::alerts
