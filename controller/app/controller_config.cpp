#include "controller/app/controller_config.hpp"

#include <stdexcept>

#include "shared/net/listen_address.hpp"

namespace derpmgr::controller {

namespace {

using t = config_type;

const std::vector<config_key>& schema() {
  static const std::vector<config_key> keys = {
      {"database", "url", t::string, std::string{}},
      {"database", "pool_size", t::integer, std::int64_t{4}},
      {"database", "auto_migrate", t::boolean, true},
      {"http", "listen", t::string, std::string{":8443"}},
      {"http", "public_url", t::string, std::string{}},
      {"http", "tls_cert", t::string, std::string{}},
      {"http", "tls_key", t::string, std::string{}},
      {"http", "trusted_proxies", t::string_list, std::vector<std::string>{}},
      {"http", "body_limit", t::integer, std::int64_t{1024 * 1024}},
      {"http", "threads", t::integer, std::int64_t{2}},
      {"agents", "listen", t::string, std::string{":8444"}},
      {"agents", "public_url", t::string, std::string{}},
      {"agents", "ca_dir", t::string, std::string{}},
      {"agents", "handshakes_per_second", t::integer, std::int64_t{100}},
      {"agents", "handshake_burst", t::integer, std::int64_t{200}},
      {"agents", "restart_grace_seconds", t::integer, std::int64_t{120}},
      {"agents", "ping_interval_seconds", t::integer, std::int64_t{15}},
      {"agents", "silence_limit_seconds", t::integer, std::int64_t{45}},
      {"rentals", "release_grace_hours", t::integer, std::int64_t{0}},
      {"rentals", "reservation_days", t::integer, std::int64_t{7}},
      {"rentals", "replace_after_offline_hours", t::integer, std::int64_t{24}},
      {"rentals", "reminder_days", t::string_list, std::vector<std::string>{"7", "3", "1"}},
      {"rentals", "placement_interval_seconds", t::integer, std::int64_t{2}},
      {"derper", "image", t::string, std::string{"derpmgr/derper:latest"}},
      {"derper", "memory_limit_mb", t::integer, std::int64_t{256}},
      {"derper", "pids_limit", t::integer, std::int64_t{256}},
      {"metrics", "listen", t::string, std::string{"127.0.0.1:9464"}},
      {"state", "dir", t::string, std::string{"/var/lib/derpmgr"}},
      {"smtp", "url", t::string, std::string{}},
      {"smtp", "from", t::string, std::string{}},
      {"web", "dir", t::string, std::string{}},
      {"geoip", "database", t::string, std::string{}},
      {"business", "currency", t::string, std::string{"CNY"}},
      {"business", "time_zone", t::string, std::string{"Asia/Shanghai"}},
      {"log", "level", t::string, std::string{"info"}},
      {"security", "master_key_file", t::string, std::string{}},
      {"auth", "customer_idle_hours", t::integer, std::int64_t{24 * 7}},
      {"auth", "customer_session_hours", t::integer, std::int64_t{24 * 30}},
  };
  return keys;
}

void check_listen(const std::string& section, const std::string& value) {
  try {
    listen_address::parse(value);
  } catch (const std::invalid_argument& e) {
    throw config_error("[" + section + "] listen: " + e.what());
  }
}

void check_range(const std::string& key, std::int64_t value, std::int64_t min, std::int64_t max) {
  if (value < min || value > max) {
    throw config_error(key + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
}

}  // namespace

controller_config controller_config::load(const std::optional<std::filesystem::path>& file, const env_lookup& env) {
  auto v = load_config(schema(), file, env);
  controller_config c;
  c.database_url = v.get_string("database", "url");
  c.database_pool_size = v.get_int("database", "pool_size");
  c.database_auto_migrate = v.get_bool("database", "auto_migrate");
  c.http_listen = v.get_string("http", "listen");
  c.http_public_url = v.get_string("http", "public_url");
  c.http_tls_cert = v.get_string("http", "tls_cert");
  c.http_tls_key = v.get_string("http", "tls_key");
  c.http_trusted_proxies = v.get_list("http", "trusted_proxies");
  c.http_body_limit = v.get_int("http", "body_limit");
  c.http_threads = v.get_int("http", "threads");
  c.agents_listen = v.get_string("agents", "listen");
  c.agents_public_url = v.get_string("agents", "public_url");
  c.agents_ca_dir = v.get_string("agents", "ca_dir");
  c.agents_handshakes_per_second = v.get_int("agents", "handshakes_per_second");
  c.agents_handshake_burst = v.get_int("agents", "handshake_burst");
  c.agents_restart_grace_seconds = v.get_int("agents", "restart_grace_seconds");
  c.agents_ping_interval_seconds = v.get_int("agents", "ping_interval_seconds");
  c.agents_silence_limit_seconds = v.get_int("agents", "silence_limit_seconds");
  c.derper_image = v.get_string("derper", "image");
  c.rentals_release_grace_hours = v.get_int("rentals", "release_grace_hours");
  c.rentals_reservation_days = v.get_int("rentals", "reservation_days");
  c.rentals_replace_after_offline_hours = v.get_int("rentals", "replace_after_offline_hours");
  c.rentals_placement_interval_seconds = v.get_int("rentals", "placement_interval_seconds");
  c.rentals_reminder_days.clear();
  for (const auto& day : v.get_list("rentals", "reminder_days")) {
    std::size_t used = 0;
    int n = -1;
    try {
      n = std::stoi(day, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != day.size() || n < 1 || n > 60) {
      throw config_error("[rentals] reminder_days: each must be a whole number of days from 1 to 60, not \"" + day +
                         "\"");
    }
    c.rentals_reminder_days.push_back(n);
  }
  c.derper_memory_limit_mb = v.get_int("derper", "memory_limit_mb");
  c.derper_pids_limit = v.get_int("derper", "pids_limit");
  c.metrics_listen = v.get_string("metrics", "listen");
  c.state_dir = v.get_string("state", "dir");
  c.smtp_url = v.get_string("smtp", "url");
  c.smtp_from = v.get_string("smtp", "from");
  c.web_dir = v.get_string("web", "dir");
  c.geoip_database = v.get_string("geoip", "database");
  c.business_currency = v.get_string("business", "currency");
  c.business_time_zone = v.get_string("business", "time_zone");
  c.log_level = v.get_string("log", "level");
  c.security_master_key_file = v.get_string("security", "master_key_file");
  c.auth_customer_idle_hours = v.get_int("auth", "customer_idle_hours");
  c.auth_customer_session_hours = v.get_int("auth", "customer_session_hours");

  check_listen("http", c.http_listen);
  check_listen("agents", c.agents_listen);
  check_listen("metrics", c.metrics_listen);
  check_range("[database] pool_size", c.database_pool_size, 1, 256);
  check_range("[http] body_limit", c.http_body_limit, 1024, 64 * 1024 * 1024);
  check_range("[http] threads", c.http_threads, 1, 64);
  check_range("[agents] handshakes_per_second", c.agents_handshakes_per_second, 1, 100000);
  check_range("[agents] handshake_burst", c.agents_handshake_burst, 1, 100000);
  check_range("[agents] restart_grace_seconds", c.agents_restart_grace_seconds, 0, 3600);
  // The session records last_seen_at once per ping interval and the fleet view counts a node offline after 45 s
  // without it, so pings must come more often than that.
  check_range("[agents] ping_interval_seconds", c.agents_ping_interval_seconds, 1, 30);
  check_range("[agents] silence_limit_seconds", c.agents_silence_limit_seconds, 2, 3600);
  if (c.agents_silence_limit_seconds <= c.agents_ping_interval_seconds) {
    throw config_error("[agents] silence_limit_seconds must be longer than ping_interval_seconds");
  }
  check_range("[rentals] release_grace_hours", c.rentals_release_grace_hours, 0, 24 * 365);
  check_range("[rentals] replace_after_offline_hours", c.rentals_replace_after_offline_hours, 0, 24 * 365);
  check_range("[rentals] reservation_days", c.rentals_reservation_days, 0, 365);
  check_range("[rentals] placement_interval_seconds", c.rentals_placement_interval_seconds, 1, 3600);
  check_range("[derper] memory_limit_mb", c.derper_memory_limit_mb, 16, 65536);
  check_range("[derper] pids_limit", c.derper_pids_limit, 16, 65536);
  if (c.derper_image.empty()) {
    throw config_error("[derper] image must not be empty");
  }
  if (!c.agents_public_url.empty() && c.agents_public_url.rfind("https://", 0) != 0) {
    throw config_error("[agents] public_url must start with https://");
  }
  check_range("[auth] customer_idle_hours", c.auth_customer_idle_hours, 1, 24 * 365);
  check_range("[auth] customer_session_hours", c.auth_customer_session_hours, 1, 24 * 365);
  if ((c.http_tls_cert.empty()) != (c.http_tls_key.empty())) {
    throw config_error("[http] tls_cert and tls_key must be set together");
  }
  if (!c.http_public_url.empty() && c.http_public_url.rfind("https://", 0) != 0) {
    throw config_error("[http] public_url must start with https://");
  }
  if (c.business_currency.size() != 3) {
    throw config_error("[business] currency must be a three-letter ISO 4217 code");
  }
  return c;
}

}  // namespace derpmgr::controller
