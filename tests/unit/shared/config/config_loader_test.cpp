#include "shared/config/config_loader.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <map>

#include "controller/app/controller_config.hpp"
#include "shared/tls/random.hpp"
#include "tests/support/env_of.hpp"

using namespace derpmgr;

namespace {

struct temp_toml {
  std::filesystem::path path;
  explicit temp_toml(const std::string& text)
      : path(std::filesystem::temp_directory_path() / ("derpmgr-config-" + random_hex(6) + ".toml")) {
    std::ofstream(path) << text;
  }
  ~temp_toml() { std::filesystem::remove(path); }
};

using test::env_of;

const std::vector<config_key> schema = {
    {"http", "listen", config_type::string, std::string{":8443"}},
    {"http", "trusted_proxies", config_type::string_list, std::vector<std::string>{}},
    {"database", "pool_size", config_type::integer, std::int64_t{4}},
    {"database", "auto_migrate", config_type::boolean, true},
};

}  // namespace

TEST_CASE("defaults apply when neither file nor environment sets a key") {
  auto v = load_config(schema, std::nullopt, env_of({}));
  CHECK(v.get_string("http", "listen") == ":8443");
  CHECK(v.get_int("database", "pool_size") == 4);
  CHECK(v.get_bool("database", "auto_migrate"));
  CHECK(v.origin("http", "listen") == "default");
}

TEST_CASE("the file overrides defaults and the environment overrides the file") {
  temp_toml f("[http]\nlisten = \"127.0.0.1:9000\"\ntrusted_proxies = [\"10.0.0.1\", \"10.0.0.2\"]\n"
              "[database]\npool_size = 8\n");
  auto v = load_config(schema, f.path, env_of({{"DERPMGR_DATABASE_POOL_SIZE", "16"}}));
  CHECK(v.get_string("http", "listen") == "127.0.0.1:9000");
  CHECK(v.origin("http", "listen") == "file");
  CHECK(v.get_list("http", "trusted_proxies") == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(v.get_int("database", "pool_size") == 16);
  CHECK(v.origin("database", "pool_size") == "DERPMGR_DATABASE_POOL_SIZE");
}

TEST_CASE("environment values are parsed by the key's type") {
  auto v = load_config(schema, std::nullopt,
                       env_of({{"DERPMGR_HTTP_TRUSTED_PROXIES", "10.0.0.1, ::1,"},
                               {"DERPMGR_DATABASE_AUTO_MIGRATE", "false"}}));
  CHECK(v.get_list("http", "trusted_proxies") == std::vector<std::string>{"10.0.0.1", "::1"});
  CHECK_FALSE(v.get_bool("database", "auto_migrate"));
  CHECK_THROWS_WITH_AS(load_config(schema, std::nullopt, env_of({{"DERPMGR_DATABASE_POOL_SIZE", "many"}})),
                       "DERPMGR_DATABASE_POOL_SIZE must be an integer", config_error);
  CHECK_THROWS_AS(load_config(schema, std::nullopt, env_of({{"DERPMGR_DATABASE_AUTO_MIGRATE", "maybe"}})),
                  config_error);
}

TEST_CASE("an unknown key in the file is an error naming it") {
  temp_toml f("[http]\nlissten = \":1\"\n");
  CHECK_THROWS_WITH_AS(load_config(schema, f.path, env_of({})), "unknown configuration key [http] lissten",
                       config_error);
  temp_toml g("[htttp]\nlisten = \":1\"\n");
  CHECK_THROWS_WITH_AS(load_config(schema, g.path, env_of({})), "unknown configuration key [htttp] listen",
                       config_error);
  temp_toml h("top = 1\n");
  CHECK_THROWS_AS(load_config(schema, h.path, env_of({})), config_error);
}

TEST_CASE("a value of the wrong type is an error naming the key") {
  temp_toml f("[database]\npool_size = \"eight\"\n");
  CHECK_THROWS_WITH_AS(load_config(schema, f.path, env_of({})),
                       "configuration key [database] pool_size must be an integer", config_error);
}

TEST_CASE("a malformed file reports its line") {
  temp_toml f("[http]\nlisten = \n");
  try {
    load_config(schema, f.path, env_of({}));
    FAIL("expected config_error");
  } catch (const config_error& e) {
    CHECK(std::string(e.what()).find("line 2") != std::string::npos);
  }
}

TEST_CASE("controller configuration validates its values") {
  auto ok = controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_HTTP_LISTEN", "127.0.0.1:0"}}));
  CHECK(ok.http_listen == "127.0.0.1:0");
  CHECK(ok.metrics_listen == "127.0.0.1:9464");
  CHECK(ok.business_time_zone == "Asia/Shanghai");
  CHECK_THROWS_WITH_AS(controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_HTTP_LISTEN", "8443"}})),
                       doctest::Contains("[http] listen"), config_error);
  CHECK_THROWS_WITH_AS(
      controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_HTTP_TLS_CERT", "/x.crt"}})),
      "[http] tls_cert and tls_key must be set together", config_error);
  CHECK_THROWS_WITH_AS(
      controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_DATABASE_POOL_SIZE", "0"}})),
      doctest::Contains("[database] pool_size"), config_error);
}

TEST_CASE("expiry reminder days are configurable and checked") {
  auto plain = controller::controller_config::load(std::nullopt, env_of({}));
  CHECK(plain.rentals_reminder_days == std::vector<int>{7, 3, 1});
  auto two = controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_RENTALS_REMINDER_DAYS", "14, 2"}}));
  CHECK(two.rentals_reminder_days == std::vector<int>{14, 2});
  temp_toml numbers("[rentals]\nreminder_days = [10, 5]\n");
  CHECK(controller::controller_config::load(numbers.path, env_of({})).rentals_reminder_days == std::vector<int>{10, 5});
  for (const char* bad : {"0", "61", "3d", "-1", "x"}) {
    CHECK_THROWS_WITH_AS(
        controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_RENTALS_REMINDER_DAYS", bad}})),
        doctest::Contains("[rentals] reminder_days"), config_error);
  }
}

TEST_CASE("the placement interval defaults to 2 s and is checked") {
  CHECK(controller::controller_config::load(std::nullopt, env_of({})).rentals_placement_interval_seconds == 2);
  temp_toml f("[rentals]\nplacement_interval_seconds = 30\n");
  CHECK(controller::controller_config::load(f.path, env_of({})).rentals_placement_interval_seconds == 30);
  for (const char* bad : {"0", "3601"}) {
    CHECK_THROWS_WITH_AS(
        controller::controller_config::load(std::nullopt,
                                            env_of({{"DERPMGR_RENTALS_PLACEMENT_INTERVAL_SECONDS", bad}})),
        doctest::Contains("[rentals] placement_interval_seconds"), config_error);
  }
  CHECK_THROWS_WITH_AS(
      controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_RENTALS_PLACEMENT_INTERVAL_SECONDS", "x"}})),
      doctest::Contains("DERPMGR_RENTALS_PLACEMENT_INTERVAL_SECONDS"), config_error);
}

TEST_CASE("the agent channel's ping interval and silence limit default to 15 s and 45 s and are checked") {
  auto defaults = controller::controller_config::load(std::nullopt, env_of({}));
  CHECK(defaults.agents_ping_interval_seconds == 15);
  CHECK(defaults.agents_silence_limit_seconds == 45);
  temp_toml f("[agents]\nping_interval_seconds = 1\nsilence_limit_seconds = 3\n");
  auto set = controller::controller_config::load(f.path, env_of({}));
  CHECK(set.agents_ping_interval_seconds == 1);
  CHECK(set.agents_silence_limit_seconds == 3);
  CHECK_THROWS_WITH_AS(
      controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_AGENTS_PING_INTERVAL_SECONDS", "0"}})),
      doctest::Contains("[agents] ping_interval_seconds"), config_error);
  CHECK_THROWS_WITH_AS(
      controller::controller_config::load(std::nullopt, env_of({{"DERPMGR_AGENTS_SILENCE_LIMIT_SECONDS", "15"}})),
      "[agents] silence_limit_seconds must be longer than ping_interval_seconds", config_error);
}
