#include "controller/fleet/fleet_hub.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <vector>

#include "controller/db/connection_pool.hpp"
#include "controller/db/statements.hpp"
#include "shared/clock/clock.hpp"
#include "shared/net/wakeable_loop.hpp"
#include "shared/version.hpp"

namespace derpmgr::controller::fleet {

namespace {

struct loaded_node {
  std::uint64_t id;
  std::string serial;
  std::string prev_serial;
  std::uint64_t generation;
};

std::vector<loaded_node> load_nodes(sql::Connection& conn) {
  auto ps = db::prepare(conn,
                        "SELECT id, cert_serial, prev_cert_serial, desired_generation FROM nodes WHERE deleted_at "
                        "IS NULL");
  std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
  std::vector<loaded_node> out;
  while (rs->next()) {
    out.push_back({rs->getUInt64(1), rs->isNull(2) ? "" : std::string(rs->getString(2)),
                   rs->isNull(3) ? "" : std::string(rs->getString(3)), rs->getUInt64(4)});
  }
  return out;
}

void heartbeat(sql::Connection& conn, const std::string& replica, time_point now) {
  auto ps = db::prepare(conn,
                        "INSERT INTO controller_replicas (id, version, started_at, last_seen) VALUES (?, ?, ?, ?) "
                        "ON DUPLICATE KEY UPDATE last_seen = VALUES(last_seen)");
  ps->setString(1, replica);
  ps->setString(2, std::string(version));
  ps->setString(3, format_sql_datetime(now));
  ps->setString(4, format_sql_datetime(now));
  ps->executeUpdate();
}

}  // namespace

fleet_hub::fleet_hub(boost::asio::io_context& ioc, db::connection_pool& pool, const clock& clk,
                     std::string replica_id, std::chrono::milliseconds refresh_interval)
    : ioc_(ioc),
      pool_(pool),
      clk_(clk),
      replica_id_(std::move(replica_id)),
      interval_(refresh_interval),
      waker_(std::make_shared<wakeable_loop>(ioc)) {}

fleet_hub::~fleet_hub() { stop(); }

void fleet_hub::start() {
  refresh_now();
  waker_->start();
  net::co_spawn(waker_->strand(), refresh_loop(this, waker_), net::detached);
}

void fleet_hub::stop() { waker_->stop(); }

void fleet_hub::refresh_soon() { waker_->wake(); }

void fleet_hub::refresh_now() {
  std::vector<loaded_node> rows;
  auto now = clk_.now();
  auto replica = replica_id_;
  pool_.run_blocking(
      [&rows, &replica, now](sql::Connection& conn) {
        rows = load_nodes(conn);
        heartbeat(conn, replica, now);
      },
      false);
  view fresh;
  for (auto& r : rows) {
    fresh[r.id] = node_view{std::move(r.serial), std::move(r.prev_serial), r.generation};
  }
  install(std::move(fresh));
}

net::awaitable<void> fleet_hub::refresh_loop(fleet_hub* hub, std::shared_ptr<wakeable_loop> waker) {
  auto last_beat = std::chrono::steady_clock::now();
  while (waker->running()) {
    co_await waker->sleep(hub->interval_);
    if (!waker->running()) {
      break;
    }
    auto now = hub->clk_.now();
    // The replica's heartbeat every 10 s, however often refresh_soon() asks for a refresh in between.
    bool beat = std::chrono::steady_clock::now() - last_beat >= std::chrono::seconds(10);
    if (beat) {
      last_beat = std::chrono::steady_clock::now();
    }
    auto replica = hub->replica_id_;
    auto unit = [beat, replica, now](sql::Connection& conn) {
      auto rows = load_nodes(conn);
      if (beat) {
        heartbeat(conn, replica, now);
      }
      return rows;
    };
    try {
      auto rows = co_await hub->pool_.run(std::move(unit));
      view fresh;
      for (auto& r : rows) {
        fresh[r.id] = node_view{std::move(r.serial), std::move(r.prev_serial), r.generation};
      }
      hub->install(std::move(fresh));
    } catch (const std::exception& e) {
      // Keep the last view: a database hiccup must not drop every agent.
      spdlog::warn("fleet: refresh failed: {}", e.what());
    }
  }
}

void fleet_hub::install(view fresh) {
  std::map<std::string, std::uint64_t> serials;
  for (const auto& [id, n] : fresh) {
    if (!n.serial.empty()) {
      serials[n.serial] = id;
    }
    if (!n.prev_serial.empty()) {
      serials[n.prev_serial] = id;
    }
  }
  std::vector<std::shared_ptr<live_session>> gone;
  std::vector<std::shared_ptr<live_session>> changed;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto session = it->second.lock();
      if (!session) {
        it = sessions_.erase(it);
        continue;
      }
      auto now_node = fresh.find(it->first);
      auto before = nodes_.find(it->first);
      if (now_node == fresh.end()) {
        gone.push_back(std::move(session));
      } else if (before == nodes_.end() || now_node->second.generation > before->second.generation) {
        changed.push_back(std::move(session));
      }
      ++it;
    }
    nodes_ = std::move(fresh);
    by_serial_ = std::move(serials);
  }
  // Outside the lock: both post work to the session's strand.
  for (auto& s : gone) {
    s->close_soon(std::string(node_deleted));
  }
  for (auto& s : changed) {
    s->wake();
  }
}

void fleet_hub::note_certificate(std::uint64_t node_id, const std::string& serial_hex, bool keep_previous) {
  std::lock_guard lock(mutex_);
  auto& n = nodes_[node_id];
  n.prev_serial = keep_previous ? n.serial : std::string();
  n.serial = serial_hex;
  by_serial_[serial_hex] = node_id;
}

std::uint64_t fleet_hub::node_for_serial(const std::string& serial_hex) const {
  std::lock_guard lock(mutex_);
  auto it = by_serial_.find(serial_hex);
  return it == by_serial_.end() ? 0 : it->second;
}

bool fleet_hub::serial_valid(std::uint64_t node_id, const std::string& serial_hex) const {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(node_id);
  return it != nodes_.end() && !serial_hex.empty() &&
         (it->second.serial == serial_hex || it->second.prev_serial == serial_hex);
}

std::optional<std::uint64_t> fleet_hub::generation_of(std::uint64_t node_id) const {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) {
    return std::nullopt;
  }
  return it->second.generation;
}

void fleet_hub::attach(std::uint64_t node_id, const std::shared_ptr<live_session>& session) {
  std::shared_ptr<live_session> older;
  {
    std::lock_guard lock(mutex_);
    auto& slot = sessions_[node_id];
    older = slot.lock();
    slot = session;
  }
  if (older && older != session) {
    older->close_soon("replaced by a newer session");
  }
}

void fleet_hub::detach(std::uint64_t node_id, const live_session* session) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(node_id);
  if (it != sessions_.end()) {
    auto current = it->second.lock();
    if (!current || current.get() == session) {
      sessions_.erase(it);
    }
  }
}

std::size_t fleet_hub::session_count() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [id, w] : sessions_) {
    n += w.expired() ? 0 : 1;
  }
  return n;
}

}  // namespace derpmgr::controller::fleet
