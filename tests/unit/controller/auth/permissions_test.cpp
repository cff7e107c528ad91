#include "controller/auth/permissions.hpp"

#include <doctest/doctest.h>

using namespace derpmgr::controller::auth;

TEST_CASE("built-in roles use only known permissions, and only the owner holds them all") {
  for (const auto& role : built_in_roles()) {
    CAPTURE(role.name);
    for (const auto& p : role.permissions) {
      CHECK(is_known_permission(p));
    }
    CHECK_EQ(role.permissions.size() == all_permissions().size(), role.name == "owner");
  }
  CHECK_FALSE(is_known_permission("nodes:destroy"));
}
