#pragma once

namespace derpmgr::controller {
namespace http {
class router;
}
namespace db {
class migrator;
}

// GET /healthz (the process answers) and GET /readyz (database reachable and schema current, else 503 with why).
void add_health_routes(http::router& routes, db::migrator& schema);

}  // namespace derpmgr::controller
