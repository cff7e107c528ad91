#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller {
struct app_services;
}
namespace derpmgr::controller::auth {
class server_keys;
}

namespace derpmgr::controller::rentals {

struct lifecycle_settings {
  std::chrono::hours release_grace{0};  // containers stay this long after expires_at
  int reservation_days = 7;             // ports and certificates kept for a renewal this long after expiry
  std::chrono::seconds offline_after{45};
  std::chrono::hours replace_after_offline{24};  // 0: never re-place automatically
  std::vector<int> reminder_days{7, 3, 1};        // expiry reminders, days before
};

// The scheduled work that keeps rentals and the fleet in step (DESIGN §4 "Rental states and timeline"). Each runs
// inside the caller's transaction and takes its rentals with FOR UPDATE SKIP LOCKED.
class rental_lifecycle {
 public:
  // Pending rentals get placed (reserved allocations of a renewed rental come back first, with the same ports and
  // certificates); degraded ones are completed when capacity appears; servers on draining nodes are replaced on
  // other nodes and released once every replacement runs, and the customer is emailed that the config changed.
  // Returns how many rentals changed.
  static int place(sql::Connection& conn, const app_services& services, time_point now,
                   const lifecycle_settings& settings, std::size_t batch = 20);
  // Rentals past expires_at + release_grace expire: their allocations become reserved (containers removed).
  static int expire(sql::Connection& conn, time_point now, const lifecycle_settings& settings);
  // Expiry reminders (reminder_days before, and at expiry), each sent once per paid-until date.
  static int send_reminders(sql::Connection& conn, const app_services& services, time_point now,
                            const lifecycle_settings& settings);
  // Allocations moved by hand are released once their replacement runs (the customer is emailed, as the config
  // changed); a move whose replacement was released meanwhile is called off. Returns how many moves ended.
  static int finish_moves(sql::Connection& conn, const app_services& services, time_point now);
  // Nodes whose deletion was asked for are deleted (their agent certificate revoked) once none of their servers is
  // live any more and the agent confirmed the removals (or the node is offline). Returns how many were deleted.
  // Each deletion is audited as the system's.
  static int finish_deletions(sql::Connection& conn, const app_services& services, time_point now,
                              const lifecycle_settings& settings);
  // Reservations older than reservation_days are released and their ports freed.
  static int release_reservations(sql::Connection& conn, time_point now, const lifecycle_settings& settings);
};

}  // namespace derpmgr::controller::rentals
