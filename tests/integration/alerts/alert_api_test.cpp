// Alerts on a fleet seeded in the database (no agents): an alert open across a controller restart stays open
// through the grace, degraded rentals alert until completed, and admins list and acknowledge alerts.
#include <doctest/doctest.h>

#include <thread>

#include "tests/support/api_helpers.hpp"
#include "tests/support/controller_fixture.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace std::chrono_literals;

namespace {

std::string sql_time(time_point t) { return "'" + format_sql_datetime(t) + "'"; }

// An enrolled node; online when `seen` is set (a live session heard then), silent since `seen` otherwise.
std::string seed_node(controller_fixture& c, const std::string& name, const std::string& ip, bool online,
                      time_point seen) {
  auto now = sql_time(c.clk->now());
  c.db.execute("INSERT INTO nodes (name, region, public_ipv4, port_min, port_max, capacity, enrolled_at, "
               "session_replica, last_seen_at, created_at, updated_at) VALUES ('" + name + "', 'r1', '" + ip +
               "', 30000, 30099, 10, " + now + ", " + (online ? "'test'" : "NULL") + ", " + sql_time(seen) + ", " +
               now + ", " + now + ")");
  return c.db.scalar("SELECT id FROM nodes WHERE name = '" + name + "'");
}

void set_online(controller_fixture& c, const std::string& node, bool online) {
  c.db.execute("UPDATE nodes SET session_replica = " + std::string(online ? "'test'" : "NULL") +
               ", last_seen_at = " + sql_time(c.clk->now()) + " WHERE id = " + node);
}

}  // namespace

TEST_CASE("an alert open when the controller starts stays open through the restart grace and is not raised twice; "
          "a flapping node is mailed about once an hour") {
  controller_fixture c("alertgrace");
  auto mail_dir = services::from_env().mail_dir;
  auto operator_email = unique_name("ops") + "@example.com";
  c.create_admin(operator_email, "operator passphrase long", "operator");
  auto name = unique_name("gone");
  auto node = seed_node(c, name, "10.9.2.1", false, c.clk->now() - 1h);
  // Raised by the controller that ran before this one.
  c.db.execute("INSERT INTO alerts (kind, severity, subject_type, subject_id, message, raised_at) VALUES "
               "('node_offline', 'critical', 'node', " + node + ", 'node " + name + " is offline', " +
               sql_time(c.clk->now() - 30min) + ")");
  auto first = c.db.scalar("SELECT id FROM alerts");

  c.app->run_jobs_now();  // silent for an hour, but within the grace it may just be reconnecting
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL") == "1");

  c.clk->advance(121s);
  c.app->run_jobs_now();
  c.app->run_jobs_now();
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts") == "1");
  CHECK(c.db.scalar("SELECT id FROM alerts WHERE resolved_at IS NULL") == first);
  std::this_thread::sleep_for(1s);
  CHECK(count_mail(mail_dir, operator_email, name) == 0);  // that alert was mailed when it was raised

  // A second alert row while one is open is refused by the database itself (two replicas racing).
  CHECK_THROWS(c.db.execute("INSERT INTO alerts (kind, severity, subject_type, subject_id, message, raised_at) "
                            "VALUES ('node_offline', 'critical', 'node', " + node + ", 'again', " +
                            sql_time(c.clk->now()) + ")"));

  set_online(c, node, true);
  c.app->run_jobs_now();
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL") == "0");

  // Offline again 46 s after it was resolved: a new alert is listed, but a flapping node is not mailed about again
  // within the hour.
  auto alert_mail = "SELECT COUNT(*) FROM email_outbox WHERE template = 'alert_raised' AND recipient = '" +
                    operator_email + "'";
  c.clk->advance(46s);
  c.app->run_jobs_now();
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL") == "1");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts") == "2");
  CHECK(c.db.scalar(alert_mail) == "0");

  // Back, and offline again more than an hour after it was last resolved: a new episode, mailed.
  set_online(c, node, true);
  c.app->run_jobs_now();
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL") == "0");
  c.clk->advance(1h + 46s);
  c.app->run_jobs_now();
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL") == "1");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts") == "3");
  CHECK(c.db.scalar(alert_mail) == "1");
  CHECK(wait_for_mail(mail_dir, operator_email, name));
}

TEST_CASE("a degraded rental raises rental_degraded until a second node completes it") {
  controller_fixture c("alertdeg");
  auto mail_dir = services::from_env().mail_dir;
  auto operator_email = unique_name("ops") + "@example.com";
  c.create_admin(operator_email, "operator passphrase long", "operator");
  seed_node(c, unique_name("deg_a"), "10.9.3.1", true, c.clk->now());
  auto now = sql_time(c.clk->now());
  c.db.execute("INSERT INTO users (email, created_at) VALUES ('" + unique_name("deg") + "@example.com', " + now + ")");
  c.db.execute("INSERT INTO rentals (user_id, plan_id, plan_name, duration_days, traffic_quota_bytes, device_limit, "
               "replicas, regions, status, starts_at, expires_at, created_at, updated_at) VALUES (LAST_INSERT_ID(), "
               "1, 'two', 30, 0, 5, 2, '', 'pending', " + now + ", '2099-01-01 00:00:00', " + now + ", " + now + ")");
  auto rental = c.db.scalar("SELECT id FROM rentals");
  auto open_for_rental = [&] {
    return c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL AND kind = 'rental_degraded' AND "
                       "subject_type = 'rental' AND subject_id = " + rental);
  };

  c.app->run_jobs_now();  // placement puts it on the one node: active, degraded
  REQUIRE(c.db.scalar("SELECT CONCAT(status, ' ', degraded) FROM rentals") == "active 1");
  c.app->run_jobs_now();
  CHECK(open_for_rental() == "1");
  CHECK(c.db.scalar("SELECT COUNT(*) FROM alerts") == "1");
  CHECK(c.db.scalar("SELECT severity FROM alerts") == "warning");
  auto needle = "rental " + rental + " is degraded: 1 of 2 servers";
  CHECK(c.db.scalar("SELECT message FROM alerts").find(needle) == 0);
  REQUIRE(wait_for_mail(mail_dir, operator_email, needle));

  seed_node(c, unique_name("deg_b"), "10.9.3.2", true, c.clk->now());
  c.app->run_jobs_now();
  REQUIRE(c.db.scalar("SELECT CONCAT(status, ' ', degraded) FROM rentals") == "active 0");
  c.app->run_jobs_now();
  CHECK(open_for_rental() == "0");
  CHECK(c.db.scalar("SELECT resolved_at IS NOT NULL FROM alerts") == "1");
  std::this_thread::sleep_for(1s);
  CHECK(count_mail(mail_dir, operator_email, needle) == 1);
}

TEST_CASE("admins list alerts with filters and a cursor, and acknowledge them once, audited") {
  controller_fixture c("alertack");
  browser ops(c.base_url(), test_origin);
  sign_in_admin(c, ops, "operator");
  auto ops_id = c.db.scalar("SELECT a.id FROM admins a JOIN admin_roles ar ON ar.admin_id = a.id JOIN roles r ON "
                            "r.id = ar.role_id WHERE r.name = 'operator'");
  // Subjects the alert job leaves alone meanwhile: a silent node still within the restart grace, and a degraded
  // rental with nowhere to go.
  auto node = seed_node(c, unique_name("ack"), "10.9.4.1", false, c.clk->now() - 1h);
  auto at = sql_time(c.clk->now());
  c.db.execute("INSERT INTO users (email, created_at) VALUES ('" + unique_name("ack") + "@example.com', " + at + ")");
  c.db.execute("INSERT INTO rentals (user_id, plan_id, plan_name, duration_days, traffic_quota_bytes, device_limit, "
               "replicas, regions, status, degraded, starts_at, expires_at, created_at, updated_at) VALUES "
               "(LAST_INSERT_ID(), 1, 'one', 30, 0, 5, 1, '', 'active', TRUE, " + at + ", '2099-01-01 00:00:00', " +
               at + ", " + at + ")");
  auto rental = c.db.scalar("SELECT id FROM rentals");
  c.db.execute("INSERT INTO alerts (kind, severity, subject_type, subject_id, message, raised_at, resolved_at) VALUES "
               "('node_offline', 'critical', 'node', " + node + ", 'node a was offline', " + at + ", " + at + "), "
               "('rental_degraded', 'warning', 'rental', " + rental + ", 'rental is degraded', " + at + ", NULL), "
               "('node_offline', 'critical', 'node', " + node + ", 'node a is offline', " + at + ", NULL)");
  c.app->run_jobs_now();
  REQUIRE(c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL") == "2");
  auto ids = c.db.scalar("SELECT GROUP_CONCAT(id ORDER BY id) FROM alerts");
  auto oldest = ids.substr(0, ids.find(','));
  auto newest = c.db.scalar("SELECT MAX(id) FROM alerts");

  auto all = json_of(ops.get("/api/v1/admin/alerts"));
  REQUIRE(all.at("items").as_array().size() == 3);
  CHECK(std::to_string(all.at("items").as_array()[0].at("id").as_int64()) == newest);  // newest first
  CHECK(all.at("next_cursor").is_null());
  CHECK(json_of(ops.get("/api/v1/admin/alerts?open=true")).at("items").as_array().size() == 2);
  CHECK(json_of(ops.get("/api/v1/admin/alerts?open=true&kind=node_offline")).at("items").as_array().size() == 1);
  auto closed = json_of(ops.get("/api/v1/admin/alerts?open=false"));
  REQUIRE(closed.at("items").as_array().size() == 1);
  CHECK(closed.at("items").as_array()[0].at("open") == false);
  auto page = json_of(ops.get("/api/v1/admin/alerts?limit=2"));
  CHECK(page.at("items").as_array().size() == 2);
  REQUIRE(page.at("next_cursor").is_string());
  auto rest = json_of(ops.get("/api/v1/admin/alerts?limit=2&cursor=" +
                              std::string(page.at("next_cursor").as_string())));
  REQUIRE(rest.at("items").as_array().size() == 1);
  CHECK(std::to_string(rest.at("items").as_array()[0].at("id").as_int64()) == oldest);
  CHECK(rest.at("next_cursor").is_null());
  CHECK(error_field(ops.get("/api/v1/admin/alerts?open=maybe")) == "open");
  CHECK(error_field(ops.get("/api/v1/admin/alerts?kind=bogus")) == "kind");

  auto acked = ops.post("/api/v1/admin/alerts/" + newest + "/acknowledge", "");
  REQUIRE_MESSAGE(acked.status == 200, acked.body);
  auto body = json_of(acked);
  CHECK(body.at("acknowledged_at").is_string());
  CHECK(std::to_string(body.at("acknowledged_by").as_int64()) == ops_id);
  CHECK(body.at("open") == true);  // acknowledging does not resolve
  CHECK(c.db.scalar("SELECT CONCAT(actor_id, ' ', target) FROM audit_log WHERE action = 'alert.acknowledged'") ==
        ops_id + " alert:" + newest);
  auto twice = ops.post("/api/v1/admin/alerts/" + newest + "/acknowledge", "");
  CHECK(twice.status == 409);
  CHECK(error_code(twice) == "already_acknowledged");
  CHECK(ops.post("/api/v1/admin/alerts/999999999/acknowledge", "").status == 404);
  CHECK(c.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'alert.acknowledged'") == "1");

  browser support(c.base_url(), test_origin);
  sign_in_admin(c, support, "support");  // nodes:read only
  CHECK(support.get("/api/v1/admin/alerts").status == 200);
  CHECK(support.post("/api/v1/admin/alerts/" + oldest + "/acknowledge", "").status == 403);
  CHECK(c.db.scalar("SELECT acknowledged_at IS NULL FROM alerts WHERE id = " + oldest) == "1");
  browser finance(c.base_url(), test_origin);
  sign_in_admin(c, finance, "finance");
  CHECK(finance.get("/api/v1/admin/alerts").status == 403);
}
