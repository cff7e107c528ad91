#include "agent/reconcile/desired_store.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/test_env.hpp"
#include "tests/support/temp_dir.hpp"

using namespace derpmgr::agent;
using derpmgr::protocol::allocation_spec;
using derpmgr::protocol::desired_state;
namespace fs = std::filesystem;
using derpmgr::test::temp_dir;

namespace {

desired_state sample_state(std::int64_t generation) {
  allocation_spec a;
  a.id = 17;
  a.config_version = 3;
  a.image = "derper:latest";
  a.bind_ip = "127.0.0.2";
  a.public_host = "127.0.0.2";
  a.port = 40001;
  a.admission_token = "tok-17";
  a.cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  a.key_pem = "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n";
  a.allowed_keys = {"nodekey:" + std::string(64, 'a')};
  a.rate_bytes_per_sec = 1000000;
  a.rate_burst_bytes = 2000000;
  allocation_spec b = a;
  b.id = 18;
  b.port = 40002;
  b.admission_token = "tok-18";
  b.allowed_keys.clear();
  b.rate_bytes_per_sec = 0;
  b.rate_burst_bytes = 0;
  b.memory_bytes = 128 << 20;
  b.pids_limit = 64;
  return desired_state{5, generation, {a, b}};
}

}  // namespace

TEST_CASE("desired store: nothing saved yet loads as nothing") {
  const temp_dir dir{"store", false};
  const desired_store store(dir.path());
  CHECK(store.path() == dir.path() / "desired.json");
  CHECK_FALSE(store.load().has_value());
}

TEST_CASE("desired store: a saved state loads back equal, in a private file") {
  const temp_dir dir{"store", false};
  const desired_store store(dir.path() / "nested");
  const desired_state state = sample_state(9);
  store.save(state);
  const auto loaded = store.load();
  REQUIRE(loaded.has_value());
  CHECK(*loaded == state);
  CHECK(fs::status(store.path()).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(fs::status(dir.path() / "nested").permissions() == fs::perms::owner_all);
}

TEST_CASE("desired store: saving again replaces the whole file and leaves no temporary behind") {
  const temp_dir dir{"store", false};
  const desired_store store(dir.path());
  store.save(sample_state(1));
  desired_state smaller = sample_state(2);
  smaller.allocations.pop_back();
  store.save(smaller);
  const auto loaded = store.load();
  REQUIRE(loaded.has_value());
  CHECK(*loaded == smaller);
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) {
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("desired store: a corrupt file is an error naming it, not an empty state") {
  const temp_dir dir{"store", false};
  const desired_store store(dir.path());
  store.save(sample_state(1));

  SUBCASE("truncated JSON") {
    std::ofstream(store.path(), std::ios::trunc) << R"({"node_id":5,"generation":1,"allocations":[{"id")";
    try {
      (void)store.load();
      FAIL("a truncated file must not load");
    } catch (const desired_store_error& e) {
      const std::string what = e.what();
      CHECK(what.find(store.path().string()) != std::string::npos);
      CHECK(what.find("corrupt") != std::string::npos);
    }
  }
  SUBCASE("JSON of the wrong shape") {
    std::ofstream(store.path(), std::ios::trunc) << R"({"node_id":5,"generation":1,"allocations":[{"id":1}]})";
    CHECK_THROWS_AS((void)store.load(), desired_store_error);
  }
  SUBCASE("an empty file") {
    std::ofstream(store.path(), std::ios::trunc).flush();
    CHECK_THROWS_AS((void)store.load(), desired_store_error);
  }
}
