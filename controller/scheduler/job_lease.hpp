#pragma once

#include <chrono>
#include <string>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::scheduler {

// A job's lease row (job_leases): one replica at a time runs a scheduled job. Not GET_LOCK, which is not
// cluster-wide. True when `holder` holds the lease for `job` until now + ttl after the call.
bool take_lease(sql::Connection& conn, const std::string& job, const std::string& holder, time_point now,
                std::chrono::seconds ttl);

}  // namespace derpmgr::controller::scheduler
