#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "controller/app/controller_config.hpp"

namespace derpmgr {
class clock;
}

namespace derpmgr::controller {

namespace http {
class router;
}
struct app_services;

// One running controller: database pool, migrations, security services, the outbox worker, the HTTPS API and the
// metrics listener on its own threads. Tests run it in-process; `serve` runs it until SIGTERM/SIGINT.
class controller_app {
 public:
  controller_app(controller_config config, std::shared_ptr<const clock> clk);
  ~controller_app();
  controller_app(const controller_app&) = delete;
  controller_app& operator=(const controller_app&) = delete;

  // Routes served on the API listener; add test or feature routes before start().
  http::router& routes();
  // Connects, migrates (if configured), syncs built-in roles and builds the services, without listening
  // (command-line tools stop here). Idempotent.
  void prepare();
  // prepare(), then binds the listeners and starts serving. Throws on any failure to start.
  void start();
  // Stops accepting, waits up to `grace` for in-flight requests, then stops every thread. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // Blocks until SIGTERM or SIGINT arrives, then stops.
  void run_until_signal();

  // The services handlers share (valid after prepare()).
  app_services& services();
  std::uint16_t http_port() const;
  std::uint16_t metrics_port() const;
  std::uint16_t agents_port() const;
  const std::string& replica_id() const;
  // Runs every scheduled job once, now (tests drive time with a manual clock).
  void run_jobs_now();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace derpmgr::controller
