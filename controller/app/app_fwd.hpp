#pragma once

// What a module's route file needs to declare `void add_<module>_routes(http::router&, app_services&)` without
// pulling in either definition.
namespace derpmgr::controller {
struct app_services;
namespace http {
class router;
}
}  // namespace derpmgr::controller
