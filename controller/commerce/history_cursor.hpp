#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "shared/clock/clock.hpp"

namespace derpmgr::controller::commerce {

// Where a page of a customer's history ends: history is ordered newest first by (at, type, id), and the next page
// starts strictly after this position. Encoded as "<microseconds since epoch>.<o|e|a>.<id>" (o: order, e: rental
// event, a: allocation), opaque to clients.
struct history_cursor {
  time_point at{};
  std::string type;  // "order", "rental_event" or "allocation"
  std::uint64_t id = 0;

  std::string encode() const;
  // nullopt when `text` is not a cursor this class wrote.
  static std::optional<history_cursor> decode(const std::string& text);
};

}  // namespace derpmgr::controller::commerce
