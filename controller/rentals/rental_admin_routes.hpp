#pragma once

#include "controller/app/app_fwd.hpp"

namespace derpmgr::controller::rentals {

// Admin rentals: list and filter, suspend / resume / cancel with a reason, extra days for one rental or for every
// rental on a node (compensation after an outage). Every action is one transaction with its event and audit record.
void add_rental_admin_routes(http::router& routes, app_services& services);

}  // namespace derpmgr::controller::rentals
