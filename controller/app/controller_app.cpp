#include "controller/app/controller_app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <thread>

#include "controller/db/connection_pool.hpp"
#include "controller/db/migrations.hpp"
#include "controller/http/http_server.hpp"
#include "controller/http/router.hpp"
#include "controller/metrics/metrics_registry.hpp"
#include "controller/ops/health_routes.hpp"
#include "shared/clock/clock.hpp"
#include "shared/tls/random.hpp"
#include "shared/tls/x509.hpp"
#include "shared/version.hpp"

namespace derpmgr::controller {

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

void controller_app::start() {
  auto& s = *impl_;
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
  s.api = std::make_unique<http::http_server>(s.ioc, api_options, http::make_server_tls_context(cert, key),
                                              s.api_routes, &s.metrics);
  http::server_options metrics_options;
  metrics_options.name = "metrics";
  metrics_options.listen = listen_address::parse(cfg.metrics_listen);
  metrics_options.access_log = false;
  s.metrics_server = std::make_unique<http::http_server>(s.ioc, metrics_options, nullptr, s.metrics_routes, nullptr);
  s.api->start();
  s.metrics_server->start();

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
  if (s.metrics_server) {
    s.metrics_server->stop();
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
  s.api.reset();
  s.metrics_server.reset();
  s.schema.reset();
  s.pool.reset();
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

std::uint16_t controller_app::metrics_port() const {
  return impl_->metrics_server ? impl_->metrics_server->port() : 0;
}

}  // namespace derpmgr::controller
