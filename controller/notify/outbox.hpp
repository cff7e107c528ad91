#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "controller/notify/email_templates.hpp"
#include "controller/notify/outbox_types.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::notify {

// The email_outbox table: messages written inside the transactions that cause them, claimed and settled by
// outbox workers, listed and re-queued by admins. Every method runs on the connection it is given and leaves the
// transaction to the caller.
class outbox {
 public:
  // Renders `template_name` for `locale` (falling back to en) and inserts it as pending, due `now`; call inside the
  // event's transaction so the message exists exactly when the event commits. Returns the message id. Throws
  // template_error (unknown template, missing value) or invalid_recipient.
  std::uint64_t enqueue(sql::Connection& conn, const std::string& recipient, const std::string& template_name,
                        const std::string& locale, const template_vars& vars, time_point now) const;

  // Newest first, filtered; throws invalid_cursor for a cursor this class did not produce.
  outbox_page list(sql::Connection& conn, const outbox_filter& filter) const;
  // One message, or nullopt.
  std::optional<outbox_entry> find(sql::Connection& conn, std::uint64_t id) const;
  // Puts a sent or failed message back to pending, due `now`, with a fresh attempt count.
  resend_result resend(sql::Connection& conn, std::uint64_t id, time_point now) const;

  // Claims up to `limit` messages that are due (pending with next_attempt_at <= now, or sending with a claim that
  // ran out) for `lease`, skipping rows other workers hold locked. Must run inside a transaction.
  outbox_claim claim_due(sql::Connection& conn, time_point now, std::size_t limit,
                         std::chrono::microseconds lease) const;
  // Records a delivery under `token`; false when the claim was lost (taken over after it ran out).
  bool mark_sent(sql::Connection& conn, std::uint64_t id, const std::string& token, time_point now) const;
  // Records a failed attempt under `token`: pending again at `retry_at`, or failed for good when it is nullopt.
  // `error` is stored for admins (truncated). False when the claim was lost.
  bool mark_failed(sql::Connection& conn, std::uint64_t id, const std::string& token, const std::string& error,
                   std::optional<time_point> retry_at) const;
  // Hands a claimed message back untried (the worker is stopping): pending, due as before, attempts unchanged.
  bool release(sql::Connection& conn, std::uint64_t id, const std::string& token) const;
};

}  // namespace derpmgr::controller::notify
