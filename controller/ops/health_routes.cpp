#include "controller/ops/health_routes.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "controller/db/connection_pool.hpp"
#include "controller/db/migrations.hpp"
#include "controller/http/router.hpp"

namespace derpmgr::controller {

namespace {

net::awaitable<http::response> readyz(db::migrator* schema) {
  std::string reason;
  try {
    auto status = co_await schema->status();
    if (status.up_to_date()) {
      co_return http::response::json(
          200, boost::json::serialize(boost::json::object{{"status", "ready"}, {"schema_version", status.current}}));
    }
    reason = "database schema is at version " + std::to_string(status.current) + ", this controller needs " +
             std::to_string(status.latest) + ": run `derpmgr-controller migrate`";
  } catch (const db::database_unavailable& e) {
    reason = e.what();
  } catch (const db::migration_error& e) {
    reason = e.what();
  } catch (const std::exception& e) {
    reason = std::string("database check failed: ") + e.what();
  }
  co_return http::response::json(503, http::error_body("not_ready", reason));
}

}  // namespace

void add_health_routes(http::router& routes, db::migrator& schema) {
  routes.add("GET", "/healthz", [](http::request&) -> net::awaitable<http::response> {
    co_return http::response::json(200, R"({"status":"ok"})");
  });
  routes.add("GET", "/readyz", [&schema](http::request&) { return readyz(&schema); });
}

}  // namespace derpmgr::controller
