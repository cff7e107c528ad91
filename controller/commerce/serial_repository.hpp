#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// What the admin serial list filters on (0 / "" : any).
struct serial_filter {
  std::string status;  // unused, redeemed, revoked, expired (unused past its expiry)
  std::uint64_t batch_id = 0;
  std::uint64_t plan_id = 0;
  std::uint64_t redeemed_by = 0;
  std::uint64_t before_id = UINT64_MAX;  // id cursor
  int limit = 100;
};

// A serial as the admin list shows it: never the code, only its last four characters.
struct serial_list_row {
  std::uint64_t id = 0;
  std::uint64_t batch_id = 0;
  std::uint64_t plan_id = 0;
  std::string last_four;
  std::string status;  // with "expired" derived
  std::optional<std::uint64_t> redeemed_by;
  std::optional<time_point> redeemed_at;
  std::optional<time_point> expires_at;
};

// A batch with how many of its codes are in each state.
struct batch_row {
  std::uint64_t id = 0;
  std::uint64_t plan_id = 0;
  std::int64_t price_cents = 0;
  std::int64_t count = 0;
  std::string note;
  std::string channel;
  std::optional<time_point> expires_at;
  time_point created_at{};
  std::int64_t unused = 0;  // not expired
  std::int64_t redeemed = 0;
  std::int64_t revoked = 0;
  std::int64_t expired = 0;
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
  // Revokes the unused codes of a batch; returns how many changed.
  static int revoke_batch(sql::Connection& conn, std::uint64_t batch_id);
  // Revokes one serial if it is unused; returns the status it had (nullopt: no such serial). Locks the row.
  static std::optional<std::string> revoke_one(sql::Connection& conn, std::uint64_t serial_id);
  // Newest first, at most filter.limit + 1 rows (the extra one tells the caller there is a next page).
  static std::vector<serial_list_row> list(sql::Connection& conn, const serial_filter& filter, time_point now);
  // Newest first, batches with id < before_id, at most `limit` rows.
  static std::vector<batch_row> list_batches(sql::Connection& conn, std::uint64_t plan_id, std::uint64_t before_id,
                                             int limit, time_point now);
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
