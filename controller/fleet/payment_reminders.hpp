#pragma once

#include <string>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller {
struct app_services;
}

namespace derpmgr::controller::fleet {

// Reminds the admins who manage nodes (nodes:write) by email when a node's paid-until date is 7 days away or
// less, once per paid-until date (a new date gets a new reminder). Runs in the caller's transaction; returns how
// many nodes were due.
int send_payment_reminders(sql::Connection& conn, const app_services& services, time_point now);

}  // namespace derpmgr::controller::fleet
