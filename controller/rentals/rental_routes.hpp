#pragma once

#include "controller/app/app_fwd.hpp"

namespace derpmgr::controller::rentals {

// `GET /me/rental`: the customer's current rental with its servers and their live state.
void add_rental_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::rentals
