#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "shared/config/config_loader.hpp"

namespace derpmgr::controller {

// The controller's settings (DESIGN §7), resolved from defaults, the TOML file and DERPMGR_* variables.
struct controller_config {
  std::string database_url;
  std::int64_t database_pool_size = 4;
  bool database_auto_migrate = true;
  std::string http_listen;
  std::string http_public_url;
  std::string http_tls_cert;
  std::string http_tls_key;
  std::vector<std::string> http_trusted_proxies;
  std::int64_t http_body_limit = 0;
  std::int64_t http_threads = 2;
  std::string agents_listen;
  std::string agents_public_url;  // what agents dial (install command); empty: public_url's host, listen's port
  std::string agents_ca_dir;      // empty: <state dir>/ca; replicas share it
  std::int64_t agents_handshakes_per_second = 100;
  std::int64_t agents_handshake_burst = 200;
  std::int64_t agents_restart_grace_seconds = 120;
  std::int64_t agents_ping_interval_seconds = 15;  // the controller pings each agent this often
  std::int64_t agents_silence_limit_seconds = 45;  // and drops a session that sent nothing, not even a pong, this long
  std::string derper_image;
  std::int64_t rentals_release_grace_hours = 0;
  std::int64_t rentals_reservation_days = 7;
  std::int64_t rentals_replace_after_offline_hours = 24;
  std::vector<int> rentals_reminder_days{7, 3, 1};  // expiry reminders, days before
  std::int64_t rentals_placement_interval_seconds = 2;  // and at once after a purchase on this replica
  std::int64_t derper_memory_limit_mb = 256;
  std::int64_t derper_pids_limit = 256;
  std::string metrics_listen;
  std::filesystem::path state_dir;
  std::string smtp_url;
  std::string smtp_from;
  std::string web_dir;
  std::string geoip_database;
  std::string business_currency;
  std::string business_time_zone;
  std::string log_level;
  std::string security_master_key_file;  // empty: <state dir>/master.key
  std::int64_t auth_customer_idle_hours = 24 * 7;
  std::int64_t auth_customer_session_hours = 24 * 30;

  // Throws config_error naming the offending key.
  static controller_config load(const std::optional<std::filesystem::path>& file,
                                const env_lookup& env = process_env);
};

}  // namespace derpmgr::controller
