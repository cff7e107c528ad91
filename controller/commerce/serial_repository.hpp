#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controller/commerce/renewal.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::commerce {

// A serial as redemption sees it.
struct serial_row {
  std::uint64_t id = 0;
  std::uint64_t batch_id = 0;
  std::uint64_t plan_id = 0;
  std::int64_t price_cents = 0;
  std::string status;  // unused, redeemed, revoked
  std::optional<time_point> expires_at;
};

// A customer's current rental row.
struct rental_row {
  std::uint64_t id = 0;
  std::uint64_t plan_id = 0;
  rental_period period;
};

// SQL for serial batches, serials, orders and the rental a redemption writes. Runs in the caller's unit of work.
class serial_repository {
 public:
  static std::uint64_t insert_batch(sql::Connection& conn, std::uint64_t plan_id, std::int64_t price_cents,
                                    int count, const std::string& note, const std::string& channel,
                                    std::optional<time_point> expires_at, std::uint64_t created_by, time_point now);
  static void insert_serial(sql::Connection& conn, std::uint64_t batch_id, const std::string& lookup_hash,
                            const std::string& code_sealed, const std::string& last_four,
                            std::optional<time_point> expires_at, time_point now);
  static std::optional<serial_row> by_lookup(sql::Connection& conn, const std::string& lookup_hash);
  // The conditional update that decides a redemption: true for exactly one caller per serial.
  static bool claim(sql::Connection& conn, std::uint64_t serial_id, std::uint64_t user_id, time_point now);
  // Revokes the unused codes of a batch (or one serial); returns how many changed.
  static int revoke_batch(sql::Connection& conn, std::uint64_t batch_id);
  static void record_attempt(sql::Connection& conn, std::uint64_t user_id, std::optional<std::uint64_t> serial_id,
                             const std::string& outcome, const std::string& ip, const std::string& user_agent,
                             time_point now);

  static std::optional<rental_row> current_rental(sql::Connection& conn, std::uint64_t user_id);
  // Writes the rental (insert when `id` is 0) with the plan's terms snapshotted; returns its id.
  static std::uint64_t save_rental(sql::Connection& conn, std::uint64_t id, std::uint64_t user_id,
                                   std::uint64_t plan_id, const plan_terms& plan, const rental_period& period,
                                   time_point now);
  static void rental_event(sql::Connection& conn, std::uint64_t rental_id, const std::string& from,
                           const std::string& to, const std::string& reason, time_point now);
  // A completed order; returns its number.
  static std::string insert_order(sql::Connection& conn, std::uint64_t user_id, std::uint64_t plan_id,
                                  std::uint64_t rental_id, const std::string& source,
                                  std::optional<std::uint64_t> serial_id, const std::string& kind,
                                  std::int64_t amount_cents, time_point now);
};

}  // namespace derpmgr::controller::commerce
