#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "controller/app/controller_app.hpp"
#include "shared/clock/clock.hpp"
#include "tests/support/test_database.hpp"

namespace derpmgr::test {

inline constexpr const char* test_origin = "https://derpmgr.test";

// A controller running in-process on its own schema, ports and state folder, with a manual clock set to the
// current time, the SMTP sink as its mail server, 127.0.0.1 as a trusted proxy and https://derpmgr.test as its
// public URL.
struct controller_fixture {
  std::shared_ptr<manual_clock> clk;
  test_database db;
  std::filesystem::path state;
  std::unique_ptr<controller::controller_app> app;

  explicit controller_fixture(const std::string& prefix = "ctl");
  // A controller whose configuration `adjust` may change before it starts (e.g. a second replica on the same
  // database and CA: pass the other fixture's database URL and CA folder).
  controller_fixture(const std::string& prefix, const std::function<void(controller::controller_config&)>& adjust);
  ~controller_fixture();

  std::string base_url() const;
  // https://127.0.0.1:<agent listener port>
  std::string agents_url() const;
  std::filesystem::path ca_dir() const { return state / "ca"; }
  // Creates an admin with `role` through the same code as `derpmgr-controller admin create`.
  void create_admin(const std::string& email, const std::string& password, const std::string& role);
};

}  // namespace derpmgr::test
