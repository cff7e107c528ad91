#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "controller/commerce/plan_repository.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::commerce {

// What a completed purchase produced.
struct purchase_result {
  std::string order_number;
  std::uint64_t order_id = 0;
  std::uint64_t rental_id = 0;
  std::string kind;  // new or renewal
  time_point expires_at{};
};

// Applies a paid purchase of `plan` to the user's rental (new period or renewal, plan terms snapshotted), records
// the rental event and the completed order. Runs inside the caller's transaction (which took the payment); throws
// api_error 409 when the rental is suspended.
purchase_result apply_purchase(sql::Connection& conn, std::uint64_t user_id, const plan_row& plan,
                               const std::string& source, std::optional<std::uint64_t> serial_id,
                               std::int64_t amount_cents, time_point now);

// Moves `amount_cents` (negative: a debit) on the user's balance and records the ledger entry. Returns false, and
// changes nothing, when a debit would make the balance negative. In the caller's transaction.
bool move_balance(sql::Connection& conn, std::uint64_t user_id, std::int64_t amount_cents, const std::string& kind,
                  const std::string& reason, std::optional<std::uint64_t> admin_id,
                  std::optional<std::uint64_t> order_id, time_point now);

}  // namespace derpmgr::controller::commerce
