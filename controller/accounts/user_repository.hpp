#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::accounts {

// A customer account as stored.
struct user_row {
  std::uint64_t id = 0;
  std::string email;  // empty once deleted (anonymised)
  std::string password_hash;
  bool email_verified = false;
  std::string locale = "en";
  std::int64_t balance_cents = 0;
  std::string status = "active";  // active, disabled, deleted
  time_point created_at{};
  std::optional<time_point> deleted_at;
};

// One page of users for admins.
struct user_page {
  std::vector<user_row> items;
  std::optional<std::uint64_t> next_after;  // id cursor
};

// SQL for the users table and its emailed codes. Every method runs inside the caller's unit of work.
class user_repository {
 public:
  // Inserts a new unverified user; nullopt when the email is taken.
  static std::optional<std::uint64_t> insert(sql::Connection& conn, const std::string& email,
                                             const std::string& password_hash, const std::string& locale,
                                             time_point now);
  static std::optional<user_row> by_email(sql::Connection& conn, const std::string& email, bool for_update = false);
  static std::optional<user_row> by_id(sql::Connection& conn, std::uint64_t id, bool for_update = false);
  static void set_password(sql::Connection& conn, std::uint64_t id, const std::string& password_hash);
  static void mark_verified(sql::Connection& conn, std::uint64_t id, time_point now);
  static void set_status(sql::Connection& conn, std::uint64_t id, const std::string& status);
  // Deletion: personal fields cleared, status 'deleted'; rentals, orders, logs and traffic keep referring to the id.
  static void anonymise(sql::Connection& conn, std::uint64_t id, time_point now);
  // Newest first, `limit` rows after the cursor; `status` filters when non-empty.
  static user_page list(sql::Connection& conn, const std::string& status, const std::string& email_contains,
                        std::optional<std::uint64_t> before_id, int limit);
};

// A code or link token mailed to a user: single use, expiring, limited tries (stored as HMAC).
struct email_code_row {
  std::uint64_t id = 0;
  std::uint64_t user_id = 0;
  std::string code_hash;
  int attempts = 0;
  time_point created_at{};
  time_point expires_at{};
};

class email_code_repository {
 public:
  // Replaces every open code of this purpose for the user with a new one.
  static void replace(sql::Connection& conn, std::uint64_t user_id, const std::string& purpose,
                      const std::string& code_hash, time_point now, time_point expires_at);
  // The open (unused) code of this purpose, locked for update.
  static std::optional<email_code_row> open_code(sql::Connection& conn, std::uint64_t user_id,
                                                 const std::string& purpose);
  // The open code with this hash (reset links are looked up by their token), locked for update.
  static std::optional<email_code_row> by_hash(sql::Connection& conn, const std::string& purpose,
                                               const std::string& code_hash);
  static void count_attempt(sql::Connection& conn, std::uint64_t id);
  static void mark_used(sql::Connection& conn, std::uint64_t id, time_point now);
  // When the user last had a code of this purpose made (for resend throttling).
  static std::optional<time_point> last_created(sql::Connection& conn, std::uint64_t user_id,
                                                const std::string& purpose);
};

}  // namespace derpmgr::controller::accounts
