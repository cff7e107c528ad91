#pragma once

namespace derpmgr::controller {
struct app_services;
namespace http {
class router;
}
}  // namespace derpmgr::controller

namespace derpmgr::controller::alerts {

// Admin API for alerts: GET /admin/alerts (?open=true|false, ?kind=, ?limit=, ?cursor=; nodes:read) and
// POST /admin/alerts/{id}/acknowledge (nodes:write, audited).
void add_alert_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::alerts
