#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shared/clock/clock.hpp"
#include "shared/protocol/desired_state.hpp"

namespace derpmgr::agent {

// A device's public node key: the 32 bytes behind "nodekey:<64 lowercase hex>".
using node_key = std::array<std::uint8_t, 32>;

// "nodekey:<64 lowercase hex>" → its bytes; nullopt for anything else (uppercase hex included).
std::optional<node_key> parse_node_key(std::string_view text);
std::string format_node_key(const node_key& key);

// How often one device was admitted by one allocation since the last report.
struct admitted_device {
  std::int64_t allocation_id = 0;
  std::string node_key;  // "nodekey:<hex>"
  std::uint64_t count = 0;
  time_point last_seen{};
  std::string last_source;  // the client address derper reported
};

// A key refused since the last report; allocation_id 0 when the token matched no allocation.
struct rejected_device {
  std::int64_t allocation_id = 0;
  std::string node_key;
  std::uint64_t count = 0;
  time_point last_seen{};
  std::string last_source;
};

// Decisions aggregated for the controller (DESIGN §5, "Device binding").
struct admission_report {
  std::vector<admitted_device> admitted;  // sorted by allocation, then key
  std::vector<rejected_device> rejected;  // likewise
  std::uint64_t malformed = 0;            // bodies that were not {"NodePublic":"nodekey:…","Source":"…"}
  std::uint64_t dropped = 0;              // rejections not itemised because the report was full

  bool empty() const { return admitted.empty() && rejected.empty() && malformed == 0 && dropped == 0; }
};

// Which keys each allocation admits, answered from memory, with the decisions counted for the controller.
// Thread-safe: update() swaps in a whole new table; admit() copies a pointer to the current one under a short lock
// and decides outside it. Tokens are never logged or reported.
class admission_table {
 public:
  // `clock` stamps last_seen; it must outlive the table. At most `max_rejected` distinct rejected keys are itemised
  // per report (a flood of random keys must not grow memory); the rest are counted in `dropped`.
  explicit admission_table(const clock& clock, std::size_t max_rejected = 10000);

  // Replaces the table with the allocations of `state` (token → allowed keys). Keys that do not parse never match.
  void update(const protocol::desired_state& state);
  // The decision for a POST /admit/<token> with `body`, counted in the report.
  bool admit(std::string_view token, std::string_view body);
  // The decisions since the last call, which start afresh.
  admission_report take_report();

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  struct allocation_keys {
    std::int64_t allocation_id = 0;
    std::vector<node_key> keys;  // sorted
  };
  using table = std::unordered_map<std::string, allocation_keys, string_hash, std::equal_to<>>;
  struct device_id {
    std::int64_t allocation_id = 0;
    node_key key{};
    bool operator==(const device_id&) const = default;
  };
  struct device_hash {
    std::size_t operator()(const device_id& id) const;
  };
  struct device_stats {
    std::uint64_t count = 0;
    time_point last_seen{};
    std::string last_source;
  };
  using device_map = std::unordered_map<device_id, device_stats, device_hash>;

  void record(device_map& into, const device_id& id, std::string_view source, bool capped);

  const clock& clock_;
  std::size_t max_rejected_;
  std::mutex table_mutex_;
  std::shared_ptr<const table> table_;
  std::mutex stats_mutex_;
  device_map admitted_;
  device_map rejected_;
  std::uint64_t malformed_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace derpmgr::agent
