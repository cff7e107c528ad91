// A real agent goes away: after the restart grace its node raises one node_offline alert, the admins who manage
// nodes are mailed once, and the alert is resolved when the agent is back.
#include <doctest/doctest.h>

#include <thread>

#include "tests/integration/fleet/fleet_support.hpp"
#include "tests/support/api_helpers.hpp"
#include "tests/support/mail_sink.hpp"
#include "tests/support/test_env.hpp"

using namespace derpmgr;
using namespace derpmgr::test;
using namespace derpmgr::test::fleet;
using namespace std::chrono_literals;

TEST_CASE("an agent that stops raises one node_offline alert past the restart grace, mailed once, resolved on return") {
  fleet_controller fc;
  auto mail_dir = services::from_env().mail_dir;
  auto operator_email = unique_name("ops") + "@example.com";
  auto finance_email = unique_name("fin") + "@example.com";
  fc.c.create_admin(operator_email, "operator passphrase long", "operator");
  fc.c.create_admin(finance_email, "finance passphrase long", "finance");

  auto name = unique_name("alerted");
  int base = random_port_base();
  auto created = fc.create_node(name, "127.0.0.2", base, base + 9);
  auto id = created.at("id").as_int64();
  auto node_id = std::to_string(id);
  agent_process agent(name);
  auto [code, out] =
      agent.enroll(fc.c.agents_url(), std::string(created.at("enrollment").as_object().at("token").as_string()));
  REQUIRE_MESSAGE(code == 0, out);
  agent.start();
  REQUIRE_MESSAGE(wait_until([&] { return fc.node(id).at("status").as_string() == "online"; }, 20s), agent.log());
  auto open_alerts = [&] {
    return fc.c.db.scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL AND kind = 'node_offline' AND "
                          "subject_type = 'node' AND subject_id = " + node_id);
  };
  fc.c.app->run_jobs_now();
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM alerts") == "0");

  agent.kill9();
  // This controller started moments ago: a silent node counts as reconnecting, not offline, so no alert yet.
  REQUIRE(wait_until([&] { return fc.node(id).at("status").as_string() == "reconnecting"; }, 10s));
  fc.c.app->run_jobs_now();
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM alerts") == "0");

  fc.c.clk->advance(121s);  // past the 120 s restart grace
  CHECK(fc.node(id).at("status").as_string() == "offline");
  fc.c.app->run_jobs_now();
  fc.c.app->run_jobs_now();  // twice: still one alert
  CHECK(open_alerts() == "1");
  CHECK(fc.c.db.scalar("SELECT COUNT(*) FROM alerts") == "1");
  auto listed = json_of(fc.admin.get("/api/v1/admin/alerts?open=true"));
  REQUIRE(listed.at("items").as_array().size() == 1);
  auto alert = listed.at("items").as_array()[0].as_object();
  CHECK(alert.at("kind") == "node_offline");
  CHECK(alert.at("severity") == "critical");
  CHECK(alert.at("subject_type") == "node");
  CHECK(alert.at("subject_id").as_int64() == id);
  CHECK(alert.at("open") == true);
  CHECK(std::string(alert.at("message").as_string()).find(name) != std::string::npos);

  REQUIRE(wait_for_mail(mail_dir, operator_email, name));
  fc.c.app->run_jobs_now();
  std::this_thread::sleep_for(2s);
  CHECK(count_mail(mail_dir, operator_email, name) == 1);
  CHECK(count_mail(mail_dir, finance_email, name) == 0);  // finance does not manage nodes

  agent.start();
  REQUIRE_MESSAGE(wait_until([&] { return fc.node(id).at("status").as_string() == "online"; }, 20s), agent.log());
  fc.c.app->run_jobs_now();
  CHECK(open_alerts() == "0");
  auto resolved = json_of(fc.admin.get("/api/v1/admin/alerts?open=false&kind=node_offline"));
  REQUIRE(resolved.at("items").as_array().size() == 1);
  CHECK(resolved.at("items").as_array()[0].at("id") == alert.at("id"));
  CHECK(resolved.at("items").as_array()[0].at("resolved_at").is_string());
  CHECK(count_mail(mail_dir, operator_email, name) == 1);  // resolving mails nobody

  agent.terminate();
  remove_node_containers(id);
}
