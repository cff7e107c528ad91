#pragma once

namespace derpmgr::controller {
struct app_services;
namespace http {
class router;
}
}  // namespace derpmgr::controller

namespace derpmgr::controller::rentals {

// `GET /me/rental`: the customer's current rental with its servers and their live state.
void add_rental_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::rentals
