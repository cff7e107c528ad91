#include "controller/app/controller_app.hpp"

#include <cppconn/connection.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <string_view>
#include <thread>

#include "controller/accounts/customer_auth_routes.hpp"
#include "controller/alerts/alert_routes.hpp"
#include "controller/alerts/fleet_alerts.hpp"
#include "controller/admins/admin_repository.hpp"
#include "controller/admins/admin_routes.hpp"
#include "controller/app/app_services.hpp"
#include "controller/audit/audit_log.hpp"
#include "controller/commerce/balance_routes.hpp"
#include "controller/fleet/agent_listener.hpp"
#include "controller/fleet/ca_files.hpp"
#include "controller/fleet/fleet_hub.hpp"
#include "controller/fleet/fleet_routes.hpp"
#include "controller/fleet/node_liveness.hpp"
#include "controller/fleet/payment_reminders.hpp"
#include "controller/fleet/region_routes.hpp"
#include "controller/rentals/rental_lifecycle.hpp"
#include "controller/rentals/rental_admin_routes.hpp"
#include "controller/rentals/rental_routes.hpp"
#include "controller/scheduler/periodic_jobs.hpp"
#include "controller/commerce/finance_routes.hpp"
#include "controller/commerce/history_routes.hpp"
#include "controller/commerce/order_routes.hpp"
#include "controller/commerce/plan_routes.hpp"
#include "controller/commerce/serial_routes.hpp"
#include "controller/audit/audit_routes.hpp"
#include "controller/auth/api_token_routes.hpp"
#include "controller/auth/api_token_store.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/auth/crypto/password_hasher.hpp"
#include "controller/auth/guarded_routes.hpp"
#include "controller/auth/crypto/password_policy.hpp"
#include "controller/auth/rate_limiter.hpp"
#include "controller/auth/server_keys.hpp"
#include "controller/auth/session_store.hpp"
#include "controller/db/connection_pool.hpp"
#include "controller/db/migrations.hpp"
#include "controller/http/client_ip.hpp"
#include "controller/http/http_server.hpp"
#include "controller/http/router.hpp"
#include "controller/metrics/metrics_registry.hpp"
#include "controller/notify/outbox.hpp"
#include "controller/notify/outbox_routes.hpp"
#include "controller/notify/outbox_worker.hpp"
#include "controller/notify/smtp_mailer.hpp"
#include "controller/ops/health_routes.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/certificate_authority.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/x509.hpp"
#include "shared/version.hpp"

namespace derpmgr::controller {

namespace {

// Placement runs every [rentals] placement_interval_seconds, and at once when a purchase asks for it
// (app_services::wake_placement).
constexpr std::string_view placement_job = "rental_placement";

std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return url;
  }
  auto path = url.find('/', scheme_end + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

audit::audit_actor actor_of(const std::string& kind) {
  if (kind == "admin") {
    return audit::audit_actor::admin;
  }
  if (kind == "customer") {
    return audit::audit_actor::customer;
  }
  if (kind == "agent") {
    return audit::audit_actor::agent;
  }
  return audit::audit_actor::system;
}

}  // namespace

struct controller_app::impl {
  controller_config config;
  std::shared_ptr<const clock> clk;
  std::string replica_id = random_hex(6);
  net::io_context ioc;
  std::unique_ptr<db::connection_pool> pool;
  std::unique_ptr<db::migrator> schema;
  metrics::metrics_registry metrics;
  http::router api_routes;
  http::router metrics_routes;
  std::unique_ptr<http::http_server> api;
  std::unique_ptr<http::http_server> metrics_server;
  std::vector<std::thread> threads;

  std::unique_ptr<auth::server_keys> keys;
  std::unique_ptr<auth::password_hasher> hasher;
  auth::password_policy passwords;
  std::unique_ptr<auth::session_store> sessions;
  std::unique_ptr<auth::api_token_store> tokens;
  std::unique_ptr<auth::authenticator> authn;
  auth::rate_limiter account_limiter{auth::rate_limiter::policy{5, std::chrono::seconds(1), std::chrono::minutes(15),
                                                                std::chrono::hours(1)}};
  auth::rate_limiter ip_limiter{auth::rate_limiter::policy{30, std::chrono::seconds(1), std::chrono::minutes(15),
                                                           std::chrono::minutes(30)}};
  std::unique_ptr<http::trusted_proxies> proxies;
  notify::outbox mail_outbox;
  std::unique_ptr<notify::outbox_worker> mail_worker;
  audit::audit_log audit_chain;
  std::unique_ptr<certificate_authority> agent_ca;
  std::unique_ptr<fleet::fleet_hub> hub;
  std::unique_ptr<fleet::agent_listener> agents;
  std::unique_ptr<scheduler::periodic_jobs> jobs;
  std::unique_ptr<app_services> services;
  bool prepared = false;
  bool started = false;
  bool stopped = false;
};

controller_app::controller_app(controller_config config, std::shared_ptr<const clock> clk)
    : impl_(std::make_unique<impl>()) {
  impl_->config = std::move(config);
  impl_->clk = std::move(clk);
}

controller_app::~controller_app() { stop(std::chrono::milliseconds(0)); }

http::router& controller_app::routes() { return impl_->api_routes; }

app_services& controller_app::services() { return *impl_->services; }

void controller_app::prepare() {
  auto& s = *impl_;
  if (s.prepared) {
    return;
  }
  const auto& cfg = s.config;
  if (cfg.database_url.empty()) {
    throw config_error("[database] url is required (or DERPMGR_DATABASE_URL)");
  }
  auto settings = db::database_settings::parse(cfg.database_url);
  db::connection_pool::options pool_options;
  pool_options.threads = static_cast<std::size_t>(cfg.database_pool_size);
  pool_options.connect_timeout = std::chrono::seconds(3);
  s.pool = std::make_unique<db::connection_pool>(settings, pool_options);
  s.schema = std::make_unique<db::migrator>(*s.pool, *s.clk, db::load_migrations(db::embedded_migration_files()),
                                            "controller-" + s.replica_id);
  if (cfg.database_auto_migrate) {
    int applied = s.schema->migrate();
    spdlog::info("database {}: {} migration(s) applied", settings.redacted(), applied);
  }
  s.pool->run_blocking([](sql::Connection& conn) { admins::admin_repository::sync_built_in_roles(conn); }, true);

  auto key_file = cfg.security_master_key_file.empty() ? cfg.state_dir / "master.key"
                                                       : std::filesystem::path(cfg.security_master_key_file);
  s.keys = std::make_unique<auth::server_keys>(auth::server_keys::load_or_create(key_file));
  s.hasher = std::make_unique<auth::password_hasher>(auth::password_hasher::options{});
  s.sessions = std::make_unique<auth::session_store>(*s.keys, *s.clk);
  s.tokens = std::make_unique<auth::api_token_store>(*s.keys, *s.clk);
  auth::auth_settings auth_settings;
  auth_settings.customer = {std::chrono::hours(cfg.auth_customer_idle_hours),
                            std::chrono::hours(cfg.auth_customer_session_hours)};
  auth_settings.public_origin = origin_of(cfg.http_public_url);
  s.authn = std::make_unique<auth::authenticator>(*s.pool, *s.sessions, *s.tokens, auth_settings);
  s.proxies = std::make_unique<http::trusted_proxies>(cfg.http_trusted_proxies);

  if (!cfg.smtp_url.empty()) {
    auto mailer = std::make_shared<notify::smtp_mailer>(notify::smtp_settings::parse(cfg.smtp_url, cfg.smtp_from),
                                                        s.clk);
    s.mail_worker = std::make_unique<notify::outbox_worker>(s.ioc, *s.pool, mailer, s.clk);
  } else {
    spdlog::warn("smtp: no [smtp] url configured; emails stay queued in the outbox");
  }

  auto* state = &s;
  s.services = std::make_unique<app_services>(app_services{
      s.config, *s.pool, *s.clk, *s.keys, *s.hasher, s.passwords, *s.sessions, *s.tokens, *s.authn,
      s.account_limiter, s.ip_limiter,
      [state](sql::Connection& conn, const std::string& to, const std::string& tmpl, const std::string& locale,
              const std::map<std::string, std::string>& vars) {
        state->mail_outbox.enqueue(conn, to, tmpl, locale, vars, state->clk->now());
      },
      [state](sql::Connection& conn, const audit_event& e) {
        audit::audit_entry entry;
        entry.actor_kind = actor_of(e.actor_kind);
        if (e.actor_id != 0) {
          entry.actor_id = e.actor_id;
        }
        entry.action = e.action;
        entry.target = e.target;
        entry.ip = e.ip;
        entry.user_agent = e.user_agent;
        entry.details = audit::audit_details(e.details);
        state->audit_chain.append(conn, entry, state->clk->now());
      },
      [state]() {
        if (state->mail_worker) {
          state->mail_worker->wake();
        }
      },
      nullptr, s.clk->now(),
      [state]() {
        if (state->jobs) {
          state->jobs->run_soon(std::string(placement_job));
        }
      },
      [state]() {
        if (state->hub) {
          state->hub->refresh_soon();
        }
      }});
  s.prepared = true;
}

void controller_app::start() {
  prepare();
  auto& s = *impl_;
  const auto& cfg = s.config;
  s.agent_ca = std::make_unique<certificate_authority>(fleet::load_ca(fleet::ca_directory(cfg)));
  s.services->agent_ca = s.agent_ca.get();
  auto* pool = s.pool.get();
  s.metrics.add_gauge("derpmgr_db_pool_threads", "Database pool worker threads.", "",
                      [pool] { return static_cast<double>(pool->stats().threads); });
  s.metrics.add_gauge("derpmgr_db_pool_busy", "Database pool workers running a unit of work.", "",
                      [pool] { return static_cast<double>(pool->stats().busy); });
  s.metrics.add_gauge("derpmgr_db_pool_queued", "Units of work waiting for a database worker.", "",
                      [pool] { return static_cast<double>(pool->stats().queued); });
  s.metrics.add_gauge("derpmgr_db_pool_connected", "Open database connections.", "",
                      [pool] { return static_cast<double>(pool->stats().connected); });

  add_health_routes(s.api_routes, *s.schema);
  accounts::add_customer_auth_routes(s.api_routes, *s.services);
  admins::add_admin_routes(s.api_routes, *s.services);
  auth::add_api_token_routes(s.api_routes, *s.services);
  notify::add_outbox_routes(s.api_routes, *s.services);
  commerce::add_plan_routes(s.api_routes, *s.services);
  commerce::add_serial_routes(s.api_routes, *s.services);
  commerce::add_balance_routes(s.api_routes, *s.services);
  commerce::add_order_routes(s.api_routes, *s.services);
  fleet::add_fleet_routes(s.api_routes, *s.services);
  fleet::add_region_routes(s.api_routes, *s.services);
  alerts::add_alert_routes(s.api_routes, *s.services);
  rentals::add_rental_routes(s.api_routes, *s.services);
  rentals::add_rental_admin_routes(s.api_routes, *s.services);
  commerce::add_finance_routes(s.api_routes, *s.services);
  commerce::add_history_routes(s.api_routes, *s.services);
  auth::add_admin_route(s.api_routes, *s.services, "GET", "/api/v1/admin/audit-log", "audit:read",
                        [](app_services* svc, http::request req, auth::principal) {
                          return audit::handle_audit_list(svc->pool, req);
                        });
  auto* registry = &s.metrics;
  s.metrics_routes.add("GET", "/metrics", [registry](http::request&) -> net::awaitable<http::response> {
    co_return http::response::text(200, registry->render(), "text/plain; version=0.0.4; charset=utf-8");
  });

  std::string cert = cfg.http_tls_cert;
  std::string key = cfg.http_tls_key;
  if (cert.empty()) {
    auto [c, k] = ensure_self_signed_files(cfg.state_dir / "tls", "localhost");
    cert = c.string();
    key = k.string();
    spdlog::warn("http: no [http] tls_cert configured; serving the self-signed certificate {}", cert);
  }
  http::server_options api_options;
  api_options.listen = listen_address::parse(cfg.http_listen);
  api_options.body_limit = static_cast<std::size_t>(cfg.http_body_limit);
  auto* proxies = s.proxies.get();
  api_options.client_ip = [proxies](const std::string& peer, const std::string& xff) {
    return proxies->client_ip(peer, xff);
  };
  s.api = std::make_unique<http::http_server>(s.ioc, api_options, http::make_server_tls_context(cert, key),
                                              s.api_routes, &s.metrics);
  http::server_options metrics_options;
  metrics_options.name = "metrics";
  metrics_options.listen = listen_address::parse(cfg.metrics_listen);
  metrics_options.access_log = false;
  s.metrics_server = std::make_unique<http::http_server>(s.ioc, metrics_options, nullptr, s.metrics_routes, nullptr);
  s.hub = std::make_unique<fleet::fleet_hub>(s.ioc, *s.pool, *s.clk, s.replica_id);
  fleet::agent_listener_options agent_options;
  agent_options.listen = listen_address::parse(cfg.agents_listen);
  agent_options.handshakes_per_second = static_cast<double>(cfg.agents_handshakes_per_second);
  agent_options.handshake_burst = static_cast<double>(cfg.agents_handshake_burst);
  agent_options.per_ip_per_second = agent_options.handshakes_per_second;
  agent_options.per_ip_burst = agent_options.handshake_burst;
  agent_options.ping_interval = std::chrono::seconds(cfg.agents_ping_interval_seconds);
  agent_options.silence_limit = std::chrono::seconds(cfg.agents_silence_limit_seconds);
  agent_options.profile = fleet::container_profile{cfg.derper_image, cfg.derper_memory_limit_mb * 1024 * 1024,
                                                   cfg.derper_pids_limit};
  s.agents = std::make_unique<fleet::agent_listener>(s.ioc, agent_options, *s.agent_ca, *s.hub, *s.services);
  s.hub->start();
  s.jobs = std::make_unique<scheduler::periodic_jobs>(s.ioc, *s.pool, *s.clk, "controller-" + s.replica_id);
  auto* svc = s.services.get();
  s.jobs->add("node_payment_reminders", std::chrono::minutes(10), [svc](sql::Connection& conn, time_point now) {
    if (fleet::send_payment_reminders(conn, *svc, now) > 0) {
      svc->wake_mailer();
    }
  });
  rentals::lifecycle_settings lifecycle;
  lifecycle.release_grace = std::chrono::hours(cfg.rentals_release_grace_hours);
  lifecycle.reservation_days = static_cast<int>(cfg.rentals_reservation_days);
  lifecycle.replace_after_offline = std::chrono::hours(cfg.rentals_replace_after_offline_hours);
  lifecycle.reminder_days = cfg.rentals_reminder_days;
  // What a job run changed, read by its after-commit hook: agents hear of it at once, not at the next refresh.
  auto placed = std::make_shared<std::atomic<int>>(0);
  s.jobs->add(
      std::string(placement_job), std::chrono::seconds(cfg.rentals_placement_interval_seconds),
      [svc, lifecycle, placed](sql::Connection& conn, time_point now) {
        auto changed = rentals::rental_lifecycle::place(conn, *svc, now, lifecycle);
        changed += rentals::rental_lifecycle::finish_moves(conn, *svc, now);
        auto deleted = rentals::rental_lifecycle::finish_deletions(conn, *svc, now, lifecycle);
        placed->store(changed + deleted);
        if (changed > 0) {
          svc->wake_mailer();
        }
      },
      [svc, placed] {
        if (placed->exchange(0) > 0) {
          svc->wake_fleet();
        }
      });
  auto expired = std::make_shared<std::atomic<int>>(0);
  s.jobs->add(
      "rental_expiry", std::chrono::seconds(30),
      [lifecycle, expired](sql::Connection& conn, time_point now) {
        auto changed = rentals::rental_lifecycle::expire(conn, now, lifecycle);
        changed += rentals::rental_lifecycle::release_reservations(conn, now, lifecycle);
        expired->store(changed);
      },
      [svc, expired] {
        if (expired->exchange(0) > 0) {
          svc->wake_fleet();
        }
      });
  s.jobs->add("rental_reminders", std::chrono::minutes(5), [svc, lifecycle](sql::Connection& conn, time_point now) {
    if (rentals::rental_lifecycle::send_reminders(conn, *svc, now, lifecycle) > 0) {
      svc->wake_mailer();
    }
  });
  fleet::liveness_policy liveness{std::chrono::seconds(45), std::chrono::seconds(cfg.agents_restart_grace_seconds),
                                  s.services->started_at};
  s.jobs->add("fleet_alerts", std::chrono::seconds(5), [svc, liveness](sql::Connection& conn, time_point now) {
    if (alerts::fleet_alerts::check(conn, *svc, liveness, now) > 0) {
      svc->wake_mailer();
    }
  });
  s.jobs->start();
  s.api->start();
  s.agents->start();
  s.metrics_server->start();
  s.metrics.add_gauge("derpmgr_agent_sessions", "Agent sessions held by this replica.", "",
                      [hub = s.hub.get()] { return static_cast<double>(hub->session_count()); });
  if (s.mail_worker) {
    s.mail_worker->start();
  }

  for (std::int64_t i = 0; i < cfg.http_threads; ++i) {
    s.threads.emplace_back([&ioc = s.ioc] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("io thread: unexpected exception: {}", e.what());
        }
      }
    });
  }
  s.started = true;
  spdlog::info("derpmgr-controller {} serving (replica {})", version, s.replica_id);
}

void controller_app::stop(std::chrono::milliseconds grace) {
  auto& s = *impl_;
  if (s.stopped) {
    return;
  }
  s.stopped = true;
  if (s.api) {
    s.api->stop();
  }
  if (s.agents) {
    s.agents->stop();
  }
  if (s.hub) {
    s.hub->stop();
  }
  if (s.jobs) {
    s.jobs->stop();
  }
  if (s.metrics_server) {
    s.metrics_server->stop();
  }
  if (s.mail_worker && s.started) {
    s.mail_worker->stop();
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (s.api && s.api->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  s.ioc.stop();
  for (auto& t : s.threads) {
    t.join();
  }
  s.threads.clear();
  // The pool first: a unit of work still running on one of its threads (a scheduled job, a request whose
  // coroutine will never resume) may use the services, the hub or the keys; its destructor waits for it.
  s.schema.reset();
  s.pool.reset();
  s.api.reset();
  s.agents.reset();
  s.hub.reset();
  s.jobs.reset();
  s.metrics_server.reset();
  s.mail_worker.reset();
  s.services.reset();
  s.hasher.reset();
  if (s.started) {
    spdlog::info("derpmgr-controller stopped");
  }
}

void controller_app::run_until_signal() {
  net::io_context signals_ioc;
  net::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int sig) {
    spdlog::info("received signal {}, shutting down", sig);
  });
  signals_ioc.run();
  stop();
}

std::uint16_t controller_app::http_port() const { return impl_->api ? impl_->api->port() : 0; }

std::uint16_t controller_app::agents_port() const { return impl_->agents ? impl_->agents->port() : 0; }

const std::string& controller_app::replica_id() const { return impl_->replica_id; }

void controller_app::run_jobs_now() { impl_->jobs->run_all_now(); }

std::uint16_t controller_app::metrics_port() const {
  return impl_->metrics_server ? impl_->metrics_server->port() : 0;
}

}  // namespace derpmgr::controller
