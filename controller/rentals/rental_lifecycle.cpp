#include "controller/rentals/rental_lifecycle.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "controller/app/app_services.hpp"
#include "controller/commerce/serial_repository.hpp"
#include "controller/db/statements.hpp"
#include "controller/fleet/allocation_repository.hpp"
#include "controller/fleet/node_repository.hpp"
#include "controller/rentals/placement.hpp"

namespace derpmgr::controller::rentals {

namespace {

using db::prepare;
using results = std::unique_ptr<sql::ResultSet>;

struct due_rental {
  std::uint64_t id;
  std::int64_t replicas;
  std::vector<std::string> regions;
  std::string status;
  bool degraded;
  std::vector<std::string> preferred_regions;  // the customer's
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

std::vector<node_candidate> candidates(sql::Connection& conn, time_point now, const lifecycle_settings& settings) {
  auto ps = prepare(conn,
                    "SELECT n.id, n.region, COALESCE(n.dns_name, n.public_ipv4, n.public_ipv6), "
                    "n.session_replica IS NOT NULL AND n.last_seen_at >= ?, n.draining, n.capacity, "
                    "n.monthly_traffic_cap_bytes, n.bandwidth_mbps, "
                    "(SELECT COUNT(*) FROM allocations a WHERE a.node_id = n.id AND a.released_at IS NULL) "
                    "FROM nodes n WHERE n.deleted_at IS NULL AND n.enrolled_at IS NOT NULL");
  ps->setString(1, format_sql_datetime(now - settings.offline_after));
  results rs(ps->executeQuery());
  std::vector<node_candidate> out;
  while (rs->next()) {
    node_candidate n;
    n.id = rs->getUInt64(1);
    n.region = rs->getString(2);
    n.public_host = rs->getString(3);
    n.online = rs->getBoolean(4);
    n.draining = rs->getBoolean(5);
    n.capacity = rs->getInt64(6);
    n.traffic_cap_bytes = rs->getUInt64(7);
    n.bandwidth_mbps = rs->getInt64(8);
    n.allocations = rs->getInt64(9);
    out.push_back(std::move(n));
  }
  return out;
}

void notify_servers_changed(sql::Connection& conn, const app_services& services, std::uint64_t rental,
                            const std::string& reason, time_point) {
  auto who = prepare(
      conn, "SELECT u.email, u.locale, u.status FROM rentals r JOIN users u ON u.id = r.user_id WHERE r.id = ?");
  who->setUInt64(1, rental);
  results urs(who->executeQuery());
  if (!urs->next() || urs->getString(3) == "deleted") {
    return;
  }
  std::string email = urs->getString(1);
  std::string locale = urs->getString(2);
  auto list = prepare(conn,
                      "SELECT a.public_host, a.port FROM allocations a WHERE a.rental_id = ? AND a.released_at IS NULL "
                      "AND a.state = 'running' ORDER BY a.id");
  list->setUInt64(1, rental);
  results lrs(list->executeQuery());
  std::string servers;
  while (lrs->next()) {
    servers += (servers.empty() ? "" : ", ") + std::string(lrs->getString(1)) + ":" + std::to_string(lrs->getInt(2));
  }
  services.enqueue_mail(conn, email, "servers_changed", locale, {{"reason", reason}, {"servers", servers}});
}

}  // namespace

int rental_lifecycle::place(sql::Connection& conn, const app_services& services, time_point now,
                            const lifecycle_settings& settings, std::size_t batch) {
  const auto& keys = services.keys;
  // Due: pending rentals, and active ones short of servers (degraded, or one released by hand or by a forced node
  // deletion) or with a server on a draining or long-gone node.
  auto find = prepare(conn,
                      "SELECT r.id, r.replicas, r.regions, r.status, r.degraded, COALESCE(u.preferred_regions, '') "
                      "FROM rentals r LEFT JOIN users u ON u.id = r.user_id WHERE r.status = 'pending' OR (r.status = 'active' AND "
                      "(r.degraded OR (SELECT COUNT(*) FROM allocations a WHERE a.rental_id = r.id AND a.released_at "
                      "IS NULL AND a.state = 'running') < r.replicas OR EXISTS (SELECT 1 FROM allocations a JOIN "
                      "nodes n ON n.id = a.node_id WHERE a.rental_id = r.id AND a.released_at IS NULL AND a.state = "
                      "'running' AND (n.draining OR n.last_seen_at < ?)))) ORDER BY r.id LIMIT ? "
                      "FOR UPDATE SKIP LOCKED");
  // A node silent this long is treated like a draining one; with replace_after_offline = 0, never.
  auto gone_before = settings.replace_after_offline.count() > 0 ? now - settings.replace_after_offline : time_point{};
  find->setString(1, format_sql_datetime(gone_before));
  find->setUInt64(2, batch);
  results rs(find->executeQuery());
  std::vector<due_rental> due;
  while (rs->next()) {
    due.push_back({rs->getUInt64(1), rs->getInt64(2), split(rs->getString(3)), rs->getString(4), rs->getBoolean(5),
                   split(rs->getString(6))});
  }
  if (due.empty()) {
    return 0;
  }
  auto fleet = candidates(conn, now, settings);
  int changed = 0;
  for (const auto& r : due) {
    // A renewed rental gets its reserved servers back: the same ports and certificates.
    fleet::allocation_repository::set_rental_state(conn, r.id, "reserved", "running", now);
    auto live = prepare(conn,
                        "SELECT n.id, COALESCE(n.dns_name, n.public_ipv4, n.public_ipv6), n.region, "
                        "n.draining OR COALESCE(n.last_seen_at < ?, FALSE), a.id, "
                        "COALESCE(a.observed_state = 'running' AND a.observed_config_version = a.config_version, "
                        "FALSE) FROM allocations a JOIN nodes n ON n.id = a.node_id WHERE a.rental_id = ? AND "
                        "a.released_at IS NULL AND a.state = 'running'");
    live->setString(1, format_sql_datetime(gone_before));
    live->setUInt64(2, r.id);
    results lrs(live->executeQuery());
    placement_request req;
    req.allowed_regions = r.regions;
    req.preferred_regions = r.preferred_regions;
    std::int64_t have = 0;
    bool healthy_all_running = true;
    std::vector<std::uint64_t> leaving;  // allocations on draining nodes
    while (lrs->next()) {
      req.taken_nodes.insert(lrs->getUInt64(1));
      req.taken_hosts.insert(lrs->getString(2));
      if (lrs->getBoolean(4)) {
        leaving.push_back(lrs->getUInt64(5));
        continue;
      }
      req.taken_regions.insert(lrs->getString(3));
      healthy_all_running = healthy_all_running && lrs->getBoolean(6);
      ++have;
    }
    req.count = static_cast<int>(std::max<std::int64_t>(r.replicas - have, 0));
    std::int64_t placed = 0;
    for (auto node_id : choose_nodes(req, fleet)) {
      auto node = fleet::node_repository::by_id(conn, node_id, true);
      if (!node) {
        continue;
      }
      try {
        fleet::allocation_request ar;
        ar.node_id = node_id;
        ar.rental_id = r.id;
        fleet::allocation_repository::create(conn, keys, *node, ar, now);
        ++placed;
        for (auto& c : fleet) {
          if (c.id == node_id) {
            ++c.allocations;
          }
        }
      } catch (const fleet::allocation_error& e) {
        spdlog::warn("placement: rental {} on node {}: {}", r.id, node_id, e.what());
      }
    }
    auto total = have + placed;
    // Servers on draining nodes go once every replacement runs (until then the customer keeps them).
    if (!leaving.empty() && placed == 0 && have >= r.replicas && healthy_all_running) {
      for (auto id : leaving) {
        fleet::allocation_repository::release(conn, id, now);
      }
      notify_servers_changed(conn, services, r.id, "a host was taken out of service", now);
      commerce::serial_repository::rental_event(conn, r.id, r.status, r.status, "servers moved off a draining node",
                                                now);
      ++changed;
      continue;
    }
    if (total == 0 && r.status == "pending") {
      continue;  // nothing online to place it on yet: it stays pending (not an event each pass)
    }
    bool degraded = total < r.replicas;
    std::string status = total > 0 ? "active" : r.status;
    if (status == r.status && degraded == r.degraded && placed == 0) {
      continue;
    }
    auto up = prepare(conn, "UPDATE rentals SET status = ?, degraded = ?, updated_at = ? WHERE id = ?");
    up->setString(1, status);
    up->setBoolean(2, degraded);
    up->setString(3, format_sql_datetime(now));
    up->setUInt64(4, r.id);
    up->executeUpdate();
    commerce::serial_repository::rental_event(conn, r.id, r.status, status,
                                              "placed on " + std::to_string(total) + " of " +
                                                  std::to_string(r.replicas) + " servers" +
                                                  (degraded ? " (degraded)" : ""),
                                              now);
    ++changed;
  }
  return changed;
}

int rental_lifecycle::expire(sql::Connection& conn, time_point now, const lifecycle_settings& settings) {
  auto find = prepare(conn,
                      "SELECT id, status FROM rentals WHERE status IN ('pending', 'active', 'limited') AND "
                      "expires_at <= ? ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED");
  find->setString(1, format_sql_datetime(now - settings.release_grace));
  results rs(find->executeQuery());
  std::vector<std::pair<std::uint64_t, std::string>> due;
  while (rs->next()) {
    due.emplace_back(rs->getUInt64(1), rs->getString(2));
  }
  for (const auto& [id, from] : due) {
    fleet::allocation_repository::set_rental_state(conn, id, "running", "reserved", now);
    auto up = prepare(conn, "UPDATE rentals SET status = 'expired', degraded = FALSE, updated_at = ? WHERE id = ?");
    up->setString(1, format_sql_datetime(now));
    up->setUInt64(2, id);
    up->executeUpdate();
    commerce::serial_repository::rental_event(conn, id, from, "expired",
                                              "the paid period ended; servers reserved for renewal", now);
  }
  return static_cast<int>(due.size());
}

int rental_lifecycle::send_reminders(sql::Connection& conn, const app_services& services, time_point now,
                                     const lifecycle_settings& settings) {
  int sent = 0;
  auto record =
      prepare(conn, "INSERT IGNORE INTO rental_reminders (rental_id, expires_at, kind, sent_at) VALUES (?, ?, ?, ?)");
  auto mail = [&](std::uint64_t rental, const std::string& expires, const std::string& kind, const std::string& email,
                  const std::string& locale, const std::string& tmpl, std::map<std::string, std::string> vars) {
    record->setUInt64(1, rental);
    record->setString(2, expires);
    record->setString(3, kind);
    record->setString(4, format_sql_datetime(now));
    if (record->executeUpdate() == 1) {  // the row makes it once, whichever replica gets here
      services.enqueue_mail(conn, email, tmpl, locale, vars);
      ++sent;
    }
  };
  auto days = settings.reminder_days;
  std::sort(days.begin(), days.end());
  // The nearest threshold passed is the one to send: a rental bought with 2 days left gets the 3-day one only.
  auto due =
      prepare(conn,
              "SELECT r.id, r.expires_at, r.plan_name, u.email, u.locale, TIMESTAMPDIFF(SECOND, ?, r.expires_at), "
              "TIMESTAMPDIFF(SECOND, r.starts_at, r.expires_at) "
              "FROM rentals r JOIN users u ON u.id = r.user_id WHERE r.status IN ('pending', 'active', 'limited') AND "
              "u.status = 'active' AND r.expires_at > ? AND r.expires_at <= ?");
  due->setString(1, format_sql_datetime(now));
  due->setString(2, format_sql_datetime(now));
  due->setString(3, format_sql_datetime(now + std::chrono::hours(24 * (days.empty() ? 0 : days.back()))));
  results rs(due->executeQuery());
  while (rs->next()) {
    auto left = rs->getInt64(6);
    auto period = rs->getInt64(7);
    for (int d : days) {
      auto threshold = static_cast<std::int64_t>(d) * 86400;
      // A period no longer than the threshold never gets that reminder (a 3-day plan is not "3 days left" at once).
      if (left <= threshold && period > threshold) {
        auto left_days = (left + 86399) / 86400;
        mail(rs->getUInt64(1), rs->getString(2), "d" + std::to_string(d), rs->getString(4), rs->getString(5),
             "rental_expiring",
             {{"plan", rs->getString(3)},
              {"expires_at", std::string(rs->getString(2)).substr(0, 16)},
              {"days", std::to_string(left_days)}});
        break;
      }
    }
  }
  auto lapsed = prepare(conn,
                        "SELECT r.id, r.expires_at, r.plan_name, u.email, u.locale FROM rentals r JOIN users u ON "
                        "u.id = r.user_id WHERE r.status = 'expired' AND u.status = 'active' AND r.expires_at > ?");
  lapsed->setString(1, format_sql_datetime(now - std::chrono::hours(24 * 2)));
  results lrs(lapsed->executeQuery());
  while (lrs->next()) {
    mail(lrs->getUInt64(1), lrs->getString(2), "expired", lrs->getString(4), lrs->getString(5), "rental_expired",
         {{"plan", lrs->getString(3)},
          {"expires_at", std::string(lrs->getString(2)).substr(0, 16)},
          {"reservation_days", std::to_string(settings.reservation_days)}});
  }
  return sent;
}

int rental_lifecycle::finish_moves(sql::Connection& conn, const app_services& services, time_point now) {
  auto find = prepare(conn,
                      "SELECT o.id, o.rental_id, n.state = 'released' OR n.released_at IS NOT NULL, n.state = "
                      "'running' AND COALESCE(n.observed_state = 'running' AND n.observed_config_version = "
                      "n.config_version, FALSE), r.status FROM allocations o JOIN allocations n ON n.id = "
                      "o.replaced_by LEFT JOIN rentals r ON r.id = o.rental_id WHERE o.released_at IS NULL AND "
                      "o.state <> 'released' ORDER BY o.id LIMIT 200");
  results rs(find->executeQuery());
  struct move_row {
    std::uint64_t id;
    std::optional<std::uint64_t> rental;
    bool abandoned;
    bool replacement_runs;
    std::string rental_status;
  };
  std::vector<move_row> moves;
  while (rs->next()) {
    moves.push_back({rs->getUInt64(1), rs->isNull(2) ? std::nullopt : std::optional(rs->getUInt64(2)),
                     rs->getBoolean(3), rs->getBoolean(4), db::text_or_empty(*rs, 5)});
  }
  int ended = 0;
  for (const auto& m : moves) {
    if (m.abandoned) {
      auto clear = prepare(conn, "UPDATE allocations SET replaced_by = NULL, updated_at = ? WHERE id = ?");
      clear->setString(1, format_sql_datetime(now));
      clear->setUInt64(2, m.id);
      clear->executeUpdate();
      ++ended;
      continue;
    }
    if (!m.replacement_runs || !fleet::allocation_repository::release(conn, m.id, now)) {
      continue;
    }
    ++ended;
    if (m.rental) {
      notify_servers_changed(conn, services, *m.rental, "an administrator moved one of your servers", now);
      commerce::serial_repository::rental_event(conn, *m.rental, m.rental_status, m.rental_status,
                                                "server " + std::to_string(m.id) + " moved to another node", now);
    }
  }
  return ended;
}

int rental_lifecycle::finish_deletions(sql::Connection& conn, const app_services& services, time_point now,
                                       const lifecycle_settings& settings) {
  auto find = prepare(conn,
                      "SELECT n.id, COALESCE(n.session_replica IS NOT NULL AND n.last_seen_at >= ?, FALSE), "
                      "(SELECT COUNT(*) FROM allocations a WHERE a.node_id = n.id AND a.released_at IS NULL AND "
                      "a.state <> 'released'), (SELECT COUNT(*) FROM allocations a WHERE a.node_id = n.id AND "
                      "a.released_at IS NULL AND a.state = 'released') FROM nodes n WHERE n.delete_requested_at IS "
                      "NOT NULL AND n.deleted_at IS NULL FOR UPDATE");
  find->setString(1, format_sql_datetime(now - settings.offline_after));
  results rs(find->executeQuery());
  std::vector<std::uint64_t> done;
  while (rs->next()) {
    bool online = rs->getBoolean(2);
    auto live = rs->getInt64(3);
    auto unconfirmed = rs->getInt64(4);
    // An offline node cannot confirm; its ports die with it.
    if (live == 0 && (unconfirmed == 0 || !online)) {
      done.push_back(rs->getUInt64(1));
    }
  }
  for (auto id : done) {
    auto free = prepare(conn,
                        "UPDATE allocations SET released_at = ?, updated_at = ? WHERE node_id = ? AND released_at IS "
                        "NULL");
    free->setString(1, format_sql_datetime(now));
    free->setString(2, format_sql_datetime(now));
    free->setUInt64(3, id);
    free->executeUpdate();
    fleet::node_repository::soft_delete(conn, id, now);
    audit_event event;
    event.actor_kind = "system";
    event.action = "node.deleted";
    event.target = "node:" + std::to_string(id);
    event.details = boost::json::object{{"reason", "its servers have moved"}};
    services.audit(conn, event);
    spdlog::info("fleet: node {} deleted: its servers have moved", id);
  }
  return static_cast<int>(done.size());
}

int rental_lifecycle::release_reservations(sql::Connection& conn, time_point now, const lifecycle_settings& settings) {
  auto find = prepare(conn,
                      "SELECT a.id FROM allocations a JOIN rentals r ON r.id = a.rental_id WHERE a.state = "
                      "'reserved' AND a.released_at IS NULL AND r.status IN ('expired', 'cancelled') AND "
                      "r.expires_at <= ? ORDER BY a.id LIMIT 500");
  find->setString(
      1, format_sql_datetime(now - settings.release_grace - std::chrono::hours(24 * settings.reservation_days)));
  results rs(find->executeQuery());
  std::vector<std::uint64_t> ids;
  while (rs->next()) {
    ids.push_back(rs->getUInt64(1));
  }
  for (auto id : ids) {
    fleet::allocation_repository::release(conn, id, now);
  }
  return static_cast<int>(ids.size());
}

}  // namespace derpmgr::controller::rentals
