#pragma once

#include "controller/app/app_services.hpp"

namespace derpmgr::controller::http {
class router;
}

namespace derpmgr::controller::notify {

// GET /api/v1/admin/email-outbox (?status=&recipient=&limit=&cursor=; email:read) and
// POST /api/v1/admin/email-outbox/{id}/resend (email:write, audited). Bodies are never listed: they hold codes.
void add_outbox_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::notify
