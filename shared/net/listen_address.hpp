#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace derpmgr {

// A parsed listen address: "host:port", "[v6]:port" or ":port" (all addresses).
struct listen_address {
  std::string host;  // empty means all addresses
  std::uint16_t port = 0;

  // Parses `text`; throws std::invalid_argument naming the problem.
  static listen_address parse(std::string_view text);
  std::string to_string() const;
};

}  // namespace derpmgr
