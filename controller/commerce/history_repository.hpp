#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/commerce/history_cursor.hpp"
#include "shared/clock/clock.hpp"

namespace sql {
class Connection;
}

namespace derpmgr::controller::commerce {

// One entry of a customer's history: an order, a change of one of their rentals, or a server (allocation) one of
// their rentals had, at the time it was placed.
struct history_item {
  std::string type;  // order, rental_event, allocation
  std::uint64_t id = 0;
  time_point at{};
  std::optional<std::uint64_t> rental_id;
  // order
  std::string number;
  std::uint64_t plan_id = 0;
  std::string source;
  std::string kind;
  std::int64_t amount_cents = 0;
  std::string status;
  // rental_event
  std::string from_status;  // "" for the first event
  std::string to_status;
  std::string reason;
  // allocation
  std::string node_name;
  std::string region;
  std::string public_host;
  int port = 0;
  std::optional<time_point> released_at;

  history_cursor position() const { return history_cursor{at, type, id}; }
};

// SQL for a customer's history. Runs in the caller's unit of work.
class history_repository {
 public:
  // The user's orders, rental events and their rentals' allocations (released ones included; an allocation's time
  // is its creation), newest first (ties: rental events, then orders, then allocations, then by id), strictly after
  // `after`; at most `limit` items.
  static std::vector<history_item> page(sql::Connection& conn, std::uint64_t user_id,
                                        const std::optional<history_cursor>& after, int limit);
};

}  // namespace derpmgr::controller::commerce
