#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shared/clock/clock.hpp"

namespace derpmgr::controller::notify {

// Where a message stands: waiting, held by a worker, delivered, or given up on.
enum class outbox_status { pending, sending, sent, failed };

// "pending", "sending", "sent", "failed".
std::string_view to_string(outbox_status status);
// The status named `text`, or nullopt for anything else.
std::optional<outbox_status> parse_outbox_status(std::string_view text);

// A recipient that is not a plain email address.
class invalid_recipient : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A list cursor this build did not hand out.
class invalid_cursor : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// What admins see of one message: everything but the body, which may carry a code or a reset link.
struct outbox_entry {
  std::uint64_t id = 0;
  time_point created_at;
  std::string recipient;
  std::string template_name;
  std::string locale;
  std::string subject;
  outbox_status status = outbox_status::pending;
  int attempts = 0;
  time_point next_attempt_at;
  std::optional<time_point> claimed_until;
  std::string last_error;  // "" when none
  std::optional<time_point> sent_at;
};

// Admin list query: optional filters, newest first, `limit` (clamped to 1..200) rows after `cursor`.
struct outbox_filter {
  std::optional<outbox_status> status;
  std::string recipient;  // exact address; "" = any
  std::size_t limit = 50;
  std::string cursor;  // "" = first page; otherwise a next_cursor from an earlier page
};

// One page of the admin list; next_cursor is "" on the last page.
struct outbox_page {
  std::vector<outbox_entry> items;
  std::string next_cursor;
};

// A message a worker has claimed and must deliver.
struct claimed_message {
  std::uint64_t id = 0;
  time_point created_at;
  std::string recipient;
  std::string subject;
  std::string body_text;
  int attempts = 0;  // delivery attempts made before this one
};

// What one claim took: the token that proves ownership and the messages it covers.
struct outbox_claim {
  std::string token;
  std::vector<claimed_message> messages;
};

// What resend did.
enum class resend_result {
  queued,          // back to pending, due now
  not_found,       // no such message
  not_resendable,  // pending or being sent already
};

}  // namespace derpmgr::controller::notify
