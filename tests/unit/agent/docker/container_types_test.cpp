#include "agent/docker/container_types.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::agent;

TEST_CASE("container states round-trip through Docker's spelling") {
  for (const auto state :
       {container_state::created, container_state::running, container_state::paused, container_state::restarting,
        container_state::removing, container_state::exited, container_state::dead}) {
    CHECK(parse_container_state(to_string(state)) == state);
  }
  CHECK(parse_container_state("zombie") == container_state::unknown);
  CHECK(parse_container_state("") == container_state::unknown);
  CHECK(std::string(to_string(container_state::unknown)) == "unknown");
}

TEST_CASE("engine_version accepts engines whose API range includes v1.41") {
  CHECK(engine_version{"20.10.24", "1.41", "1.12"}.supports_pinned_api());
  CHECK(engine_version{"27.3.1", "1.47", "1.24"}.supports_pinned_api());
  CHECK_FALSE(engine_version{"19.03.15", "1.40", "1.12"}.supports_pinned_api());
  CHECK_FALSE(engine_version{"29.0.0", "1.52", "1.44"}.supports_pinned_api());
  CHECK_FALSE(engine_version{"?", "", ""}.supports_pinned_api());
  CHECK_FALSE(engine_version{"?", "one.two", "1.12"}.supports_pinned_api());
}
