#include "agent/app/agent_config.hpp"

#include <doctest/doctest.h>

#include <map>
#include "tests/support/env_of.hpp"

using namespace derpmgr;
using namespace std::chrono_literals;

namespace {

using test::env_of;

}  // namespace

TEST_CASE("the agent's channel pings every 15 s and gives up after 45 s of silence unless configured") {
  auto defaults = agent::agent_config::load(std::nullopt, env_of({}));
  CHECK(defaults.ping_interval == 15s);
  CHECK(defaults.silence_limit == 45s);
  auto set = agent::agent_config::load(std::nullopt, env_of({{"DERPMGR_CONTROLLER_PING_INTERVAL_SECONDS", "1"},
                                                             {"DERPMGR_CONTROLLER_SILENCE_LIMIT_SECONDS", "3"}}));
  CHECK(set.ping_interval == 1s);
  CHECK(set.silence_limit == 3s);
  CHECK_THROWS_WITH_AS(
      agent::agent_config::load(std::nullopt, env_of({{"DERPMGR_CONTROLLER_PING_INTERVAL_SECONDS", "0"}})),
      doctest::Contains("[controller] ping_interval_seconds"), config_error);
  CHECK_THROWS_WITH_AS(
      agent::agent_config::load(std::nullopt, env_of({{"DERPMGR_CONTROLLER_SILENCE_LIMIT_SECONDS", "15"}})),
      doctest::Contains("[controller] silence_limit_seconds"), config_error);
}
