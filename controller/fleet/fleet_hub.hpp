#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "shared/net/net.hpp"

namespace boost::asio {
class io_context;
}

namespace derpmgr {
class clock;
class wakeable_loop;
}

namespace derpmgr::controller::db {
class connection_pool;
}

namespace derpmgr::controller::fleet {

// What the hub can ask of a live agent session on this replica.
class live_session {
 public:
  virtual ~live_session() = default;
  // Ends the session soon (from any thread) with a close reason the agent sees.
  virtual void close_soon(std::string reason) = 0;
  // The node's desired generation grew: look at it now rather than at the session's next turn (from any thread).
  virtual void wake() = 0;
};

// This replica's view of the fleet, refreshed from MySQL every second: which agent certificate serials are
// current (the revocation cache the listener checks, never querying inside a handshake), each node's desired
// generation (so a change committed on any replica reaches the session here), and the sessions held here. A session
// whose node's generation grew is woken at once; a replica that has just committed a change calls refresh_soon().
class fleet_hub {
 public:
  // The close reason of a deleted node's session; its agent is sent an empty desired state first.
  static constexpr std::string_view node_deleted = "node deleted";

  fleet_hub(boost::asio::io_context& ioc, db::connection_pool& pool, const clock& clk, std::string replica_id,
            std::chrono::milliseconds refresh_interval = std::chrono::milliseconds(1000));
  ~fleet_hub();
  fleet_hub(const fleet_hub&) = delete;
  fleet_hub& operator=(const fleet_hub&) = delete;

  // Loads the first view (blocking) and starts the refresh loop on the io_context.
  void start();
  void stop();

  // The node whose current certificate, or previous one until the agent uses the current, has this serial; 0 if none.
  std::uint64_t node_for_serial(const std::string& serial_hex) const;
  // True while `serial_hex` is the node's current or not-yet-superseded previous certificate.
  bool serial_valid(std::uint64_t node_id, const std::string& serial_hex) const;
  // The node's desired generation at the last refresh; nullopt when it was deleted.
  std::optional<std::uint64_t> generation_of(std::uint64_t node_id) const;

  // Registers the live session of a node; an older one on this replica is closed.
  void attach(std::uint64_t node_id, const std::shared_ptr<live_session>& session);
  void detach(std::uint64_t node_id, const live_session* session);
  std::size_t session_count() const;
  const std::string& replica_id() const { return replica_id_; }
  // Refreshes now (blocking); tests use it to skip the wait.
  void refresh_now();
  // Refreshes at once instead of at the end of the interval (from any thread, after a commit that changed a
  // node's desired state), so this replica's sessions deliver the change without waiting for the next turn.
  void refresh_soon();
  // Makes a certificate just issued here acceptable at once, before the next refresh reads it back.
  void note_certificate(std::uint64_t node_id, const std::string& serial_hex, bool keep_previous);

 private:
  struct node_view {
    std::string serial;
    std::string prev_serial;
    std::uint64_t generation = 0;
  };
  using view = std::map<std::uint64_t, node_view>;

  static net::awaitable<void> refresh_loop(fleet_hub* hub, std::shared_ptr<wakeable_loop> waker);
  void install(view fresh);
  void close_revoked(const view& fresh);

  boost::asio::io_context& ioc_;
  db::connection_pool& pool_;
  const clock& clk_;
  std::string replica_id_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  view nodes_;
  std::map<std::string, std::uint64_t> by_serial_;
  std::map<std::uint64_t, std::weak_ptr<live_session>> sessions_;
  std::shared_ptr<wakeable_loop> waker_;
};

}  // namespace derpmgr::controller::fleet
